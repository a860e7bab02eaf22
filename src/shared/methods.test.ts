import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  METHOD_DESCRIPTORS,
  METHOD_IDS,
  familyOf,
  groupMethods,
  methodTableMarkdown,
  methodTitle,
  orderMethods,
  placeholderAvailability,
} from './methods';

describe('method catalog', () => {
  it('groups by family in a fixed order, unknown ids under Other', () => {
    const groups = groupMethods([
      { id: 'gradcam', title: 'Grad-CAM', available: true },
      { id: 'brand-new' as never, title: 'Brand new', available: true },
      { id: 'cam', title: 'CAM', available: false, reason: 'no GAP head' },
      { id: 'scorecam', title: 'Score-CAM', available: true },
    ]);
    expect(groups.map((g) => [g.family.title, g.methods.map((m) => m.id)])).toEqual([
      ['Weights-based', ['cam']],
      ['Gradient-based', ['gradcam']],
      ['Perturbation', ['scorecam']],
      ['Other', ['brand-new']],
    ]);
    expect(familyOf('fullgrad')).toBe('input-saliency');
  });

  it('titles come from the model, else the fallback, else the id', () => {
    expect(methodTitle('cam', [{ id: 'cam', title: 'Class Activation Map', available: true }])).toBe('Class Activation Map');
    expect(methodTitle('gradcampp', null)).toBe('Grad-CAM++');
    expect(methodTitle('mystery', null)).toBe('mystery');
    expect(placeholderAvailability().map((m) => m.id)).toEqual([...METHOD_IDS]);
  });

  it('ids are unique, and the README lists every method as the descriptors say (regenerate with npm run docs:methods)', () => {
    expect(new Set(METHOD_IDS).size).toBe(METHOD_DESCRIPTORS.length);
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    // Compared cell by cell, so that the table's column padding (Prettier's) does not matter.
    const cells = (table: string): string[][] =>
      table
        .split('\n')
        .filter((line) => line.startsWith('|') && !/^\|[-\s|]+\|$/.test(line))
        .map((line) =>
          line
            .slice(1, -1)
            .split(' | ')
            .map((cell) => cell.trim()),
        );
    const expected = cells(methodTableMarkdown());
    const section = readme.slice(readme.indexOf('## Methods'));
    const table = section.slice(section.indexOf('\n|'), section.indexOf('\n\n', section.indexOf('\n|') + 1));
    expect(cells(table)).toEqual(expected);
  });

  it('orders methods as the registry does, unknown ids last, without repeats', () => {
    expect(orderMethods(['gradcam', 'cam', 'gradcam', 'mystery'])).toEqual(['cam', 'gradcam', 'mystery']);
  });
});
