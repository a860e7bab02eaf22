import { describe, expect, it } from 'vitest';
import { METHOD_IDS } from '../core/methods/method-ids';
import { METHODS } from '../core/methods/registry';
import { FALLBACK_METHOD_TITLES, METHOD_FAMILY, familyOf, groupMethods, isSlowMethod, methodTitle, placeholderAvailability } from './method-catalog';

describe('method catalog', () => {
  it('knows the family, title and slowness of every engine method', () => {
    for (const id of METHOD_IDS) {
      const method = METHODS[id];
      expect(METHOD_FAMILY[id], id).toBe(method.family);
      expect(FALLBACK_METHOD_TITLES[id], id).toBe(method.title);
      expect(isSlowMethod(id), id).toBe(method.long);
    }
  });

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
});
