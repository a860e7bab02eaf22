/** Settings persistence through zustand's persist middleware: versions, validation, and storage that fails. */
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine, makeStore, resetLoadIds } from '../testing/fake-engine';
import { SETTINGS_STORAGE_KEY } from './settings';
import { SETTINGS_VERSION } from './persistence';

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  resetLoadIds();
});

describe('settings persistence', () => {
  it('reads the flat settings of version 1 (no version field) and writes them back as version 2', async () => {
    const storage = new Map([
      [SETTINGS_STORAGE_KEY, JSON.stringify({ mode: 'classroom', colormap: 'magma', methods: ['gradcam', 'cam'], opacity: 0.3 })],
    ]);
    const store = makeStore(engine, { storage });
    await store.getState().start();
    const s = store.getState();
    expect([s.mode, s.colormap, s.methods, s.opacity]).toEqual(['classroom', 'magma', ['cam', 'gradcam'], 0.3]);
    store.getState().setOpacity(0.6);
    const written = JSON.parse(storage.get(SETTINGS_STORAGE_KEY)!) as Record<string, unknown>;
    expect(written).toMatchObject({ version: SETTINGS_VERSION, mode: 'classroom', colormap: 'magma', opacity: 0.6 });
    expect(SETTINGS_VERSION).toBe(2);
  });

  it('drops the bad fields of stored settings and keeps the good ones; unreadable storage gives the defaults', async () => {
    const storage = new Map([
      [SETTINGS_STORAGE_KEY, JSON.stringify({ version: 2, colormap: 'jet', topK: 7, detection: { kind: 'top-k', k: 0 } })],
    ]);
    const store = makeStore(engine, { storage });
    await store.getState().start();
    expect([store.getState().colormap, store.getState().topK, store.getState().detection]).toEqual(['turbo', 7, null]);

    const garbage = makeStore(engine, { storage: new Map([[SETTINGS_STORAGE_KEY, '{not json']]) });
    await garbage.getState().start();
    expect(garbage.getState().topK).toBe(5);
  });
});
