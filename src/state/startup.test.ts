import { describe, expect, it } from 'vitest';
import { nameFromUrl, parseCatalog, parseStartupParams, resolveUrl } from './startup';

describe('parseStartupParams', () => {
  it('defaults to auto and no model', () => {
    expect(parseStartupParams('')).toEqual({ backend: 'auto', modelUrl: null, warnings: [] });
  });
  it('reads backend and model', () => {
    const p = parseStartupParams('?backend=WASM&model=https%3A%2F%2Fx.org%2Fm%2Fmodel.json');
    expect(p.backend).toBe('wasm');
    expect(p.modelUrl).toBe('https://x.org/m/model.json');
  });
  it('warns on an unknown backend', () => {
    const p = parseStartupParams('?backend=cuda');
    expect(p.backend).toBe('auto');
    expect(p.warnings[0]).toMatch(/cuda/);
  });
});

describe('parseCatalog', () => {
  it('keeps well-formed entries', () => {
    expect(parseCatalog({ models: [{ id: 'a', name: 'A', url: 'models/a/model.json' }, { id: 'b' }, 3] })).toEqual([
      { id: 'a', name: 'A', url: 'models/a/model.json' },
    ]);
  });
  it('throws on a bad shape', () => {
    expect(() => parseCatalog([])).toThrow(/models/);
    expect(() => parseCatalog(null)).toThrow();
  });
});

describe('urls', () => {
  it('resolves relative to the page', () => {
    expect(resolveUrl('models/a/model.json', 'http://h:1/app/index.html')).toBe('http://h:1/app/models/a/model.json');
    expect(resolveUrl('https://x.org/m.json', 'http://h/')).toBe('https://x.org/m.json');
  });
  it('names a model by its folder', () => {
    expect(nameFromUrl('http://h/models/resnet50-imagenet/model.json?x=1')).toBe('resnet50-imagenet');
    expect(nameFromUrl('weights.json')).toBe('weights.json');
  });
});
