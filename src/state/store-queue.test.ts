/** The studio store on a fake engine (src/testing/fake-engine.ts): the exploration queue and recovery after an engine crash. */
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine, analyzeResult, blob, makeStore, resetLoadIds } from '../testing/fake-engine';
import type { StudioStore } from './types';

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  resetLoadIds();
});

describe('exploration queue', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    return store;
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('shows the first image, explains the others in the background in order, and switching to one done needs no analysis', async () => {
    const store = await ready();
    await store.getState().enqueueImages([
      { name: 'a.png', blob: blob(11) },
      { name: 'b.png', blob: blob(12) },
      { name: 'c.png', blob: blob(13) },
    ]);
    await settle();
    let s = store.getState();
    expect(s.imageName).toBe('a.png');
    expect(engine.calls.filter((c) => c === 'analyze')).toHaveLength(1);
    expect(engine.fileAnalyses).toEqual(['12', '13']);
    expect(s.queue.map((item) => item.status)).toEqual(['done', 'done', 'done']); // a.png: kept from the foreground

    const analysesBefore = engine.calls.filter((c) => c === 'analyze').length;
    await store.getState().selectQueued(s.queue[1]!.id);
    s = store.getState();
    expect(s.imageName).toBe('b.png');
    expect(engine.calls.filter((c) => c === 'analyze')).toHaveLength(analysesBefore); // instant: from the queue
    expect(s.result).toBe(s.queue[1]!.result);
    expect(s.analysisStatus).toBe('done');

    await store.getState().selectQueued(s.queue[0]!.id); // a.png's foreground result was kept too
    expect(engine.calls.filter((c) => c === 'analyze')).toHaveLength(analysesBefore);

    await store.getState().setMethods(['gradcam']); // new settings: the current image is analysed, the others again in the background
    await settle();
    s = store.getState();
    expect(engine.calls.filter((c) => c === 'analyze')).toHaveLength(analysesBefore + 1);
    expect(engine.fileAnalyses).toEqual(['12', '13', '12', '13']);
    expect(s.queue.every((item) => item.request?.methods.join() === 'gradcam')).toBe(true);
  });

  it('a background analysis superseded by the foreground goes back to waiting and is taken up again; removing an image drops it', async () => {
    const store = await ready();
    engine.holdFileAnalysis = true;
    await store.getState().enqueueImages([
      { name: 'a.png', blob: blob(21) },
      { name: 'b.png', blob: blob(22) },
    ]);
    await settle();
    expect(store.getState().imageName).toBe('a.png');
    expect(store.getState().queue[1]!.status).toBe('running');
    await engine.cancel(); // what a foreground request does to the running job
    await settle();
    expect(store.getState().queue[1]!.status).toBe('waiting');
    engine.holdFileAnalysis = false;
    await store.getState().processQueue();
    expect(store.getState().queue[1]!.status).toBe('done');
    store.getState().removeQueued(store.getState().queue[1]!.id);
    expect(store.getState().queue.map((item) => item.name)).toEqual(['a.png']);
  });

  it('with whileBusy "queue", an image dropped during an analysis waits for it, then is shown; "supersede" stops the analysis', async () => {
    const store = await ready();
    await store.getState().setImage(blob(30), 'first.png');
    engine.hold.analyze = true;
    const running = store.getState().setMethods(['gradcam']);
    await settle();
    expect(store.getState().analysisStatus).toBe('busy');
    store.getState().setWhileBusy('queue');
    await store.getState().enqueueImages([{ name: 'new.png', blob: blob(31) }]);
    let s = store.getState();
    expect(s.imageName, 'the running analysis keeps its image').toBe('first.png');
    expect(s.analysisStatus).toBe('busy');
    expect(s.queueNext).toBe(s.queue.at(-1)!.id);
    expect(engine.calls).not.toContain('cancel');
    engine.hold.analyze = false;
    engine.held.analyze.shift()!.resolve(analyzeResult(engine.requests.at(-1)!, engine.current!.loadId, 99));
    await running;
    await settle();
    await settle();
    s = store.getState();
    expect(s.imageName, 'shown once the analysis ended').toBe('new.png');
    expect(s.queueNext).toBeNull();
    expect(s.analysisStatus).toBe('done');

    // Supersede: the new image replaces the running analysis at once.
    engine.hold.analyze = true;
    const second = store.getState().setMethods(['cam']);
    await settle();
    store.getState().setWhileBusy('supersede');
    const callsBefore = engine.calls.length;
    const dropped = store.getState().enqueueImages([{ name: 'other.png', blob: blob(32) }]);
    await settle();
    expect(store.getState().imageName).toBe('other.png');
    expect(engine.calls.slice(callsBefore)).toContain('setImage:32');
    engine.hold.analyze = false;
    for (const held of engine.held.analyze.splice(0)) held.resolve(analyzeResult(engine.requests.at(-1)!, engine.current!.loadId, 100));
    await Promise.all([second, dropped]);
  });
});

describe('engine crash recovery', () => {
  it('a restarted engine gets the backend, the model and the image again, and the analysis is redone; a notice, no error', async () => {
    const restarts: Array<(reason: string, cause: 'crash' | 'device-lost') => void> = [];
    const store = makeStore(engine, { restarts, search: '?backend=wasm' });
    await store.getState().start();
    await store.getState().setImage(blob(100), 'cat.png');
    expect(restarts).toHaveLength(1);
    const calls = engine.calls.length;
    const source = store.getState().modelSource;
    expect(source).not.toBeNull();
    store.setState({ lastError: { code: 'engine-crashed', message: 'The engine worker stopped.', context: 'Computing heatmaps' } });
    restarts[0]!('The engine worker stopped: out of memory.', 'crash');
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const after = engine.calls.slice(calls);
    expect(after[0]).toBe('init:wasm');
    expect(after.some((c) => c.startsWith('loadModel'))).toBe(true);
    expect(after.filter((c) => c.startsWith('setImage'))).toHaveLength(1);
    expect(after.at(-1)).toBe('analyze');
    const s = store.getState();
    expect(s.lastError).toBeNull();
    expect(s.notices.at(-1)).toMatch(/out of memory\. The engine was restarted/);
    expect(s.modelStatus).toBe('ready');
    expect(s.analysisStatus).toBe('done');
    expect(s.imageName).toBe('cat.png');
  });

  it('a lost WebGPU device restarts on WebGPU once; a second loss within ten minutes falls back to wasm, saying so', async () => {
    const restarts: Array<(reason: string, cause: 'crash' | 'device-lost') => void> = [];
    const store = makeStore(engine, { restarts, search: '?backend=webgpu' });
    await store.getState().start();
    await store.getState().setImage(blob(100), 'cat.png');
    const settle = async () => {
      for (let i = 0; i < 4; i += 1) await new Promise((resolve) => setTimeout(resolve, 0));
    };
    let calls = engine.calls.length;
    restarts[0]!('The GPU device was lost (destroyed).', 'device-lost');
    await settle();
    expect(engine.calls.slice(calls)[0]).toBe('init:webgpu');
    expect(store.getState().requestedBackend).toBe('webgpu');
    expect(store.getState().notices.at(-1)).toMatch(/device was lost \(destroyed\)\. The engine was restarted/);

    calls = engine.calls.length;
    restarts[0]!('The GPU device was lost (destroyed).', 'device-lost');
    await settle();
    const after = engine.calls.slice(calls);
    expect(after[0]).toBe('init:wasm');
    expect(after.at(-1)).toBe('analyze');
    const s = store.getState();
    expect(s.requestedBackend).toBe('wasm');
    expect(s.backend?.backend).toBe('wasm');
    expect(s.notices.at(-1)).toMatch(/WebGPU lost its device 2 times in ten minutes, so the engine was restarted on wasm/);
    expect(s.analysisStatus).toBe('done');
    expect(s.lastError).toBeNull();
  });
});
