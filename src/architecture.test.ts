/**
 * Architecture rules, checked on the source itself:
 * - one rule about folders (layers.config.js, the same table ESLint's boundaries rule reads): every
 *   import of a file under src/ goes to its own folder or to one its folder lists (tests and src/testing/
 *   excepted); so the UI thread never loads TF.js or the engine, and src/core nothing above it;
 * - nothing outside tests calls dataSync/arraySync (the engine awaits data());
 * - src/core and src/shared use no DOM, worker or Node globals (also checked by tsconfig.core.json's ES-only
 *   lib), and src/shared no TF.js.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYERS, layerOf } from '../layers.config.js';

const src = join(import.meta.dirname);
function files(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}
const sources = files(src).filter((path) => !relative(src, path).startsWith('testing/') && !path.endsWith('.d.ts'));

/** The src-relative paths a file imports (relative specifiers only; packages are not layers). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+['"](\.[^'"]+)['"]/gm)].map((match) =>
    relative(src, normalize(join(dirname(path), match[1]!))).replace(/\\/g, '/'),
  );
}

describe('architecture', () => {
  it('every source file lies in a layer', () => {
    expect(sources.length).toBeGreaterThan(50);
    for (const path of sources) expect(layerOf(relative(src, path)), relative(src, path)).not.toBeNull();
  });

  it('imports follow the folder rule of layers.config.js (types included)', () => {
    const violations: string[] = [];
    for (const path of sources) {
      const from = layerOf(relative(src, path))!;
      for (const target of importsOf(path)) {
        const to = layerOf(target);
        if (to !== from && !(LAYERS[from] ?? []).includes(to ?? ''))
          violations.push(`${relative(src, path)} (${from}) imports ${target} (${to ?? 'outside src'})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the UI thread never imports TF.js (so never reads tensors synchronously)', () => {
    for (const path of sources.filter((p) => ['ui', 'state', 'charts', 'figure', 'client'].includes(layerOf(relative(src, p))!))) {
      expect(readFileSync(path, 'utf8'), relative(src, path)).not.toMatch(/from ['"]@tensorflow\//);
    }
  });

  it('no production code calls dataSync or arraySync', () => {
    for (const path of files(src)) {
      expect(readFileSync(path, 'utf8'), relative(src, path)).not.toMatch(/\.(dataSync|arraySync)\(/);
    }
  });

  it('src/core and src/shared touch no DOM, worker or Node globals', () => {
    for (const path of [...files(join(src, 'core')), ...files(join(src, 'shared'))]) {
      const text = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(text, relative(src, path)).not.toMatch(/\b(document|window|self|navigator|postMessage|OffscreenCanvas|process)\b\s*[.(]/);
      expect(text, relative(src, path)).not.toMatch(/from ['"](node:|fs|path|react)/);
      if (layerOf(relative(src, path)) === 'shared') expect(text, relative(src, path)).not.toMatch(/from ['"]@tensorflow/);
    }
  });
});
