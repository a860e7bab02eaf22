/** The studio store on a fake engine (src/testing/fake-engine.ts): startup (URL parameters, catalog, backend, the first model) and model loading. */
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine, blob, flush, makeStore, resetLoadIds, studioError, summary } from '../testing/fake-engine';
import { snapshotState } from './snapshot';

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  resetLoadIds();
});

describe('startup', () => {
  it('inits the URL backend, then loads the first catalog model by absolute URL', async () => {
    const store = makeStore(engine, { search: '?backend=webgl' });
    await store.getState().start();
    const s = store.getState();
    expect(engine.calls.slice(0, 2)).toEqual(['init:webgl', 'loadModel:http://127.0.0.1:5173/models/resnet50-imagenet/model.json']);
    expect(s.backend?.backend).toBe('webgl');
    expect(s.requestedBackend).toBe('webgl');
    expect(s.backendStatus).toBe('ready');
    expect(s.modelStatus).toBe('ready');
    expect(s.model?.name).toBe('resnet50-imagenet');
    expect(s.modelSourceName).toBe('ResNet50 (ImageNet, Keras)');
    expect(s.catalog).toHaveLength(1);
    expect(s.lastError).toBeNull();
  });

  it('uses ?model= over the catalog', async () => {
    const store = makeStore(engine, { search: '?model=https://x.org/nets/tiny/model.json' });
    await store.getState().start();
    expect(engine.calls).toContain('loadModel:https://x.org/nets/tiny/model.json');
    expect(store.getState().model?.name).toBe('tiny');
  });

  it('tells the user to run npm run setup when the catalog is missing', async () => {
    const store = makeStore(engine, { catalogOk: false });
    await store.getState().start();
    const s = store.getState();
    expect(s.modelStatus).toBe('error');
    expect(s.catalogStatus).toBe('error');
    expect(s.lastError?.message).toMatch(/npm run setup/);
    expect(engine.calls.some((c) => c.startsWith('loadModel'))).toBe(false);
  });

  it('falls back to auto when the requested backend fails, keeping the error visible', async () => {
    engine.failInit = 'webgpu';
    const store = makeStore(engine, { search: '?backend=webgpu' });
    await store.getState().start();
    const s = store.getState();
    expect(engine.calls.slice(0, 2)).toEqual(['init:webgpu', 'init:auto']);
    expect(s.backend?.backend).toBe('wasm');
    expect(s.requestedBackend).toBe('auto');
    expect(s.lastError?.code).toBe('backend-unavailable');
    expect(s.modelStatus).toBe('ready');
  });
});

describe('model loading', () => {
  it('keeps the current model when a new load fails, and shows the error', async () => {
    const store = makeStore(engine);
    await store.getState().start();
    const before = store.getState().model;
    engine.failNextLoad = studioError('missing-shard', 'group1-shard2of2.bin is missing: add it beside model.json.');
    const pending = store.getState().loadModelFromUrl('broken/model.json');
    expect(store.getState().modelStatus).toBe('loading');
    await pending;
    const s = store.getState();
    expect(s.model).toBe(before);
    expect(s.modelStatus).toBe('ready');
    expect(s.modelLoadFailed).toBe(true);
    expect(s.lastError).toEqual({
      code: 'missing-shard',
      message: 'group1-shard2of2.bin is missing: add it beside model.json.',
      context: 'Loading the model broken',
    });
    expect(snapshotState(s).lastError).toMatch(/missing/);
  });

  it('reports progress while loading and clears it after', async () => {
    engine.hold.loadModel = true;
    const store = makeStore(engine);
    const p = store.getState().loadModelFromUrl('models/a/model.json');
    await flush();
    expect(store.getState().loadProgress).toEqual({ loadedBytes: 50, totalBytes: 100, stage: 'fetching' });
    expect(store.getState().pendingModelName).toBe('a');
    engine.held.loadModel[0]?.resolve(summary('a'));
    await p;
    expect(store.getState().loadProgress).toBeNull();
    expect(store.getState().modelStatus).toBe('ready');
  });

  it('a newer load supersedes an older one that finishes later', async () => {
    engine.hold.loadModel = true;
    const store = makeStore(engine);
    const first = store.getState().loadModelFromUrl('models/a/model.json');
    const second = store.getState().loadModelFromUrl('models/b/model.json');
    await flush();
    const a = summary('a');
    const b = summary('b');
    engine.held.loadModel[1]?.resolve(b);
    await second;
    engine.held.loadModel[0]?.resolve(a);
    await first;
    expect(store.getState().model?.name).toBe('b');
  });

  it('with no model at all, a failed load shows the error state', async () => {
    engine.failNextLoad = studioError('model-json-invalid', 'model.json is not valid JSON.');
    const store = makeStore(engine);
    await store.getState().loadModelFromUrl('x/model.json');
    expect(store.getState().modelStatus).toBe('error');
    expect(store.getState().lastError?.code).toBe('model-json-invalid');
  });

  it('an image chosen before the model is ready is analysed once it is', async () => {
    engine.hold.loadModel = true;
    const store = makeStore(engine);
    const load = store.getState().loadModelFromUrl('models/a/model.json');
    await store.getState().setImage(blob(10), 'cat.png');
    expect(store.getState().imageStatus).toBe('waiting-for-model');
    expect(engine.calls.some((c) => c.startsWith('setImage'))).toBe(false);
    engine.held.loadModel[0]?.resolve(summary('a'));
    await load;
    const s = store.getState();
    expect(s.imageStatus).toBe('ready');
    expect(s.imageName).toBe('cat.png');
    expect(s.analysisStatus).toBe('done');
    expect(s.result?.maps).toHaveLength(4);
  });
});
