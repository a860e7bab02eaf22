/**
 * Architecture rules that the compiler alone does not enforce:
 * - the UI thread (src/ui, src/state, src/charts, src/main.tsx) never imports TF.js, so it can never
 *   read tensor data synchronously; type-only imports of core/worker modules are fine;
 * - nothing outside tests calls dataSync/arraySync (the engine awaits data());
 * - src/core uses no DOM, worker or Node globals (also checked by tsconfig.core.json's ES-only lib).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname);
function files(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}
/** Modules with no TF.js in their import graph: plain data and types the UI shares with the engine. */
const TF_FREE_MODULES = [
  'core/model/metadata', 'core/methods/method-ids', 'core/errors', 'worker/protocol',
  'core/metrics/scores', 'core/metrics/localisation', 'core/metrics/report', 'core/detection', 'core/predictions',
];
const uiFiles = files(src).filter((path) => /^(ui|state|charts|figure)\/|^main\.tsx$/.test(relative(src, path)));

describe('architecture', () => {
  it('has UI files to check', () => {
    expect(uiFiles.length).toBeGreaterThan(0);
  });

  it('the UI thread never imports TF.js (so never reads tensors synchronously)', () => {
    for (const path of uiFiles) {
      const text = readFileSync(path, 'utf8');
      expect(text, relative(src, path)).not.toMatch(/from ['"]@tensorflow\//);
      for (const match of text.matchAll(/^import (?!type)[^;]*from ['"](?:\.\.\/)+((?:core|worker)\/[^'"]+)['"]/gm)) {
        expect(TF_FREE_MODULES, `${relative(src, path)} imports ${match[1]}`).toContain(match[1]);
      }
    }
  });

  it('the core modules the UI may import at run time are free of TF.js (they import only each other)', () => {
    for (const module of TF_FREE_MODULES) {
      const text = readFileSync(join(src, `${module}.ts`), 'utf8');
      expect(text, module).not.toMatch(/^import (?!type).*from ['"]@tensorflow/m);
      for (const match of text.matchAll(/^import (?!type)[^;]*from ['"](\.[^'"]+)['"]/gm)) {
        const target = join(module, '..', match[1]!).replace(/\\/g, '/');
        expect(TF_FREE_MODULES, `${module} imports ${target}`).toContain(target);
      }
    }
  });

  it('no production code calls dataSync or arraySync', () => {
    for (const path of files(src)) {
      expect(readFileSync(path, 'utf8'), relative(src, path)).not.toMatch(/\.(dataSync|arraySync)\(/);
    }
  });

  it('src/core touches no DOM, worker or Node globals', () => {
    for (const path of files(join(src, 'core'))) {
      const text = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(text, relative(src, path)).not.toMatch(/\b(document|window|self|navigator|postMessage|OffscreenCanvas|process)\b\s*[.(]/);
      expect(text, relative(src, path)).not.toMatch(/from ['"](node:|fs|path|react)/);
    }
  });
});
