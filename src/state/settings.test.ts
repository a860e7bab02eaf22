import { describe, expect, it } from 'vitest';
import { parseStoredSettings, settingsFromSearch, settingsOf, settingsToSearch } from './settings';

describe('studio settings', () => {
  const state = {
    mode: 'figure' as const,
    methods: ['cam' as const, 'minmax-cam' as const],
    colormap: 'viridis' as const,
    opacity: 0.3,
    topK: 7,
    detection: { kind: 'sigmoid' as const, threshold: 0.4 },
    gridTransposed: true,
    whileBusy: 'queue' as const,
    model: { source: 'http://127.0.0.1:5173/models/shapes-resnet/model.json' } as never,
  };

  it('round-trip through a shareable URL (model relative to the studio) and through storage', () => {
    const settings = settingsOf(state, 'http://127.0.0.1:5173/');
    expect(settings.model).toBe('models/shapes-resnet/model.json');
    const search = settingsToSearch(settings, 'wasm');
    expect(search).toContain('backend=wasm');
    expect(search).toContain('busy=queue');
    expect(settingsFromSearch(search)).toEqual({ settings, warnings: [] });
    expect(parseStoredSettings(JSON.stringify(settings))).toEqual(settings);
  });

  it('never keeps a dropped (local) model, and never carries images', () => {
    const local = settingsOf({ ...state, model: { source: '3 dropped file(s)' } as never }, 'http://127.0.0.1:5173/');
    expect(local.model).toBeUndefined();
    expect(Object.keys(local).sort()).toEqual([
      'colormap',
      'detection',
      'gridTransposed',
      'methods',
      'mode',
      'opacity',
      'topK',
      'whileBusy',
    ]);
  });

  it('drops bad URL values with a warning and keeps the good ones', () => {
    const { settings, warnings } = settingsFromSearch(
      '?mode=party&methods=cam,nope&colormap=jet&opacity=2&topk=0&detect=sigmoid:7&grid=diagonal&busy=maybe&model=%20',
    );
    expect(settings).toEqual({ methods: ['cam'] });
    expect(warnings).toHaveLength(8);
    expect(warnings.join(' ')).toMatch(
      /mode "party".*nope.*"jet".*opacity.*topk.*detection rule.*grid.*busy in the URL is supersede or queue \(got "maybe"\)/,
    );
  });

  it('ignores unreadable storage', () => {
    expect(parseStoredSettings(null)).toEqual({});
    expect(parseStoredSettings('{oops')).toEqual({});
    expect(parseStoredSettings('42')).toEqual({});
    expect(parseStoredSettings(JSON.stringify({ opacity: 'high', detection: { kind: 'weird' }, topK: 3 }))).toEqual({ topK: 3 });
  });
});
