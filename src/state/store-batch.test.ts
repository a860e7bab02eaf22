/** The studio store on a fake engine (src/testing/fake-engine.ts): faithfulness metrics of one image and folder evaluations (pause, cancel, crashes, the journal). */
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine, blob, makeStore, resetLoadIds, studioError, summary } from '../testing/fake-engine';
import { memoryBatchJournal } from './batch-journal';
import type { StudioStore } from './types';

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  resetLoadIds();
});

describe('faithfulness metrics of the current image', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    await store.getState().setImage(blob(100), 'cat.png');
    return store;
  }

  it('computes for the chosen methods and the detection rule, and records what they were computed for', async () => {
    const store = await ready();
    await store.getState().setDetection({ kind: 'top-k', k: 2 });
    await store.getState().computeMetrics();
    const s = store.getState();
    expect(engine.metricsRequests.at(-1)).toMatchObject({
      methods: ['cam', 'gradcam'],
      detection: { kind: 'top-k', k: 2 },
      curveSteps: 16,
    });
    expect(s.metricsStatus).toBe('done');
    expect(s.metrics?.evaluation.scores['cam']?.['0']?.ar).toBe(0.5);
    expect(s.metricsFor?.image).toBe(s.image);
    expect(s.metricsFor?.loadId).toBe(s.model?.loadId);
  });

  it('cancel returns at once, keeps the studio usable, and a late answer is ignored', async () => {
    const store = await ready();
    engine.holdMetrics = true;
    const running = store.getState().computeMetrics();
    expect(store.getState().metricsStatus).toBe('busy');
    await store.getState().cancelMetrics();
    expect(store.getState().metricsStatus).toBe('idle');
    await running;
    expect(store.getState().metrics).toBeNull();
    expect(store.getState().lastError).toBeNull();
    expect(engine.calls).toContain('cancel');
  });

  it('no image: nothing to compute', async () => {
    const store = makeStore(engine);
    await store.getState().start();
    await store.getState().computeMetrics();
    expect(engine.metricsRequests).toHaveLength(0);
    expect(store.getState().metricsStatus).toBe('idle');
  });
});

describe('folder evaluation', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    return store;
  }
  const files = (names: string[]) => names.map((name, i) => ({ name, image: blob(10 + i), mask: i === 0 ? blob(5) : null }));

  it('evaluates every file in order with the chosen methods, keeps failures apart, ends done', async () => {
    const store = await ready();
    engine.failFile.add('b.png');
    await store.getState().startBatch(files(['a.png', 'b.png', 'c.png']));
    const s = store.getState();
    expect(engine.fileRequests).toEqual(['a.png', 'b.png', 'c.png']);
    expect(s.batchStatus).toBe('done');
    expect(s.batchRecords.map((record) => record.name)).toEqual(['a.png', 'c.png']);
    expect(s.batchFailures).toEqual([{ name: 'b.png', message: 'b.png is not an image' }]);
    expect(s.batchMethods).toEqual(['cam', 'gradcam']);
    expect(s.batchRecords[0]!.localisation).toBeDefined(); // a.png came with a mask
    expect(s.batchRecords[1]!.localisation).toBeUndefined();
  });

  it('pause stops after the current image and resume goes on; cancel keeps the partial results', async () => {
    const store = await ready();
    engine.holdFiles = true;
    const running = store.getState().startBatch(files(['a.png', 'b.png', 'c.png']));
    await Promise.resolve();
    store.getState().pauseBatch();
    engine.heldFiles.shift()!.resolve({ name: 'a.png', probabilities: [1], detected: [], scores: {}, ms: 1 });
    await running;
    expect(store.getState().batchStatus).toBe('paused');
    expect(store.getState().batchRecords).toHaveLength(1);
    expect(engine.fileRequests).toEqual(['a.png']);

    const resumed = store.getState().resumeBatch();
    await Promise.resolve();
    expect(engine.fileRequests).toEqual(['a.png', 'b.png']);
    await store.getState().cancelBatch();
    await resumed;
    const s = store.getState();
    expect(s.batchStatus).toBe('cancelled');
    expect(s.batchRecords.map((record) => record.name)).toEqual(['a.png']);
    expect(s.batchFailures).toEqual([]);
    expect(engine.calls).toContain('cancel');
  });

  it('an engine crash under an image: the image is tried again once the engine is back; a second crash on it is its failure', async () => {
    const store = await ready();
    const crashes = new Map<string, number>([
      ['b.png', 1],
      ['c.png', 2],
    ]);
    const original = engine.evaluateFile.bind(engine);
    engine.evaluateFile = async (image, mask, name, request) => {
      const left = crashes.get(name) ?? 0;
      if (left > 0) {
        crashes.set(name, left - 1);
        // What engine-client does when the worker dies: reject the call, then the store recovers.
        setTimeout(() => void store.getState().recoverEngine('The engine worker stopped: out of memory.'), 0);
        throw Object.assign(new Error('The engine worker stopped: out of memory.'), { name: 'engine-crashed' });
      }
      return original(image, mask, name, request);
    };
    await store.getState().startBatch(files(['a.png', 'b.png', 'c.png', 'd.png']));
    const s = store.getState();
    expect(s.batchStatus).toBe('done');
    expect(s.batchRecords.map((record) => record.name)).toEqual(['a.png', 'b.png', 'd.png']);
    expect(s.batchFailures).toEqual([{ name: 'c.png', message: 'The engine worker stopped: out of memory.' }]);
    expect(
      s.notices.filter((notice) => /restarted/.test(notice)),
      'one restart per crash: b once, c twice',
    ).toHaveLength(3);
  });

  it('an engine crash between two images (no call in flight): the next image waits for the restarted engine', async () => {
    const store = await ready();
    const original = engine.evaluateFile.bind(engine);
    let crashed = false;
    engine.evaluateFile = async (image, mask, name, request) => {
      // A fresh worker has no model until the store has loaded it again.
      if (store.getState().modelStatus !== 'ready' || store.getState().backendStatus !== 'ready')
        throw studioError('no-model', 'No model is loaded yet.');
      const record = await original(image, mask, name, request);
      if (name === 'a.png' && !crashed) {
        crashed = true;
        // The worker dies right after answering a.png; loading the model again takes a while.
        engine.hold.loadModel = true;
        void store.getState().recoverEngine('The engine worker stopped.');
        setTimeout(() => {
          engine.hold.loadModel = false;
          const held = engine.held.loadModel.shift()!;
          held.resolve(
            summary('m', { source: String(store.getState().modelSource && (store.getState().modelSource as { url?: string }).url) }),
          );
        }, 300);
      }
      return record;
    };
    await store.getState().startBatch(files(['a.png', 'b.png', 'c.png']));
    const s = store.getState();
    expect(s.batchFailures).toEqual([]);
    expect(s.batchRecords.map((record) => record.name)).toEqual(['a.png', 'b.png', 'c.png']);
    expect(s.batchStatus).toBe('done');
  });

  it('journals every step; after a reload the interrupted batch is offered and resumes where it stopped, the images done not evaluated again', async () => {
    const journal = memoryBatchJournal();
    const first = makeStore(engine, { journal });
    await first.getState().start();
    engine.holdFiles = true;
    const running = first.getState().startBatch(files(['a.png', 'b.png', 'c.png', 'd.png']));
    const settle = async () => {
      for (let i = 0; i < 20; i += 1) await Promise.resolve();
    };
    await settle();
    engine.heldFiles.shift()!.resolve({ name: 'a.png', probabilities: [1], detected: [], scores: {}, ms: 1 });
    await settle();
    engine.heldFiles.shift()!.reject(new Error('b.png is not an image'));
    await settle();
    // The tab closes while c.png is being evaluated: its promise never settles.
    expect(engine.fileRequests).toEqual(['a.png', 'b.png', 'c.png']);
    void running;

    const second = makeStore(engine, { journal });
    await second.getState().start();
    await settle();
    expect(second.getState().interruptedBatch).toMatchObject({ done: 1, failures: 1, total: 4, modelName: second.getState().model!.name });
    engine.holdFiles = false;
    engine.fileRequests.length = 0;
    await second.getState().resumeInterruptedBatch();
    const s = second.getState();
    expect(engine.fileRequests, 'a and b are not evaluated again').toEqual(['c.png', 'd.png']);
    expect(s.batchStatus).toBe('done');
    expect(s.batchRecords.map((record) => record.name)).toEqual(['a.png', 'c.png', 'd.png']);
    expect(s.batchFailures.map((failure) => failure.name)).toEqual(['b.png']);
    expect(s.batchMethods).toEqual(['cam', 'gradcam']);
    expect(s.interruptedBatch).toBeNull();
    expect(await journal.loadProgress(), 'a finished batch leaves nothing behind').toBeNull();

    // A third start finds nothing to resume; a discarded batch is gone too.
    const third = makeStore(engine, { journal });
    await third.getState().start();
    await settle();
    expect(third.getState().interruptedBatch).toBeNull();
  });

  it('resuming with another model loaded says which model the batch needs and keeps the offer', async () => {
    const journal = memoryBatchJournal();
    await journal.saveFiles(files(['a.png', 'b.png']));
    await journal.saveProgress({
      version: 1,
      modelName: 'Some other net',
      methods: ['cam'],
      detection: null,
      records: [],
      failures: [],
      next: 0,
      total: 2,
      elapsedMs: 0,
      savedAt: 0,
    });
    const store = makeStore(engine, { journal });
    await store.getState().start();
    for (let i = 0; i < 20; i += 1) await Promise.resolve();
    expect(store.getState().interruptedBatch?.modelName).toBe('Some other net');
    await store.getState().resumeInterruptedBatch();
    expect(store.getState().lastError?.message).toMatch(/ran with the model "Some other net"; load that model first/);
    expect(store.getState().interruptedBatch).not.toBeNull();
    expect(engine.fileRequests).toEqual([]);
    await store.getState().discardInterruptedBatch();
    expect(store.getState().interruptedBatch).toBeNull();
    expect(await journal.loadFiles()).toBeNull();
  });

  it('a labels file makes the ground truth the detected set; a bad one is a failure of that image only', async () => {
    const store = await ready();
    const seen: unknown[] = [];
    const original = engine.evaluateFile.bind(engine);
    engine.evaluateFile = async (image, mask, name, request) => {
      seen.push(request.detection);
      return original(image, mask, name, request);
    };
    await store.getState().startBatch([
      { name: 'a.png', image: blob(1), mask: null, labels: new Blob(['["class 3", 5]']) },
      { name: 'b.png', image: blob(2), mask: null, labels: new Blob(['["no such class"]']) },
      { name: 'c.png', image: blob(3), mask: null },
    ]);
    expect(seen).toEqual([{ kind: 'ground-truth', labels: [3, 5] }, undefined]);
    expect(store.getState().batchFailures.map((failure) => failure.name)).toEqual(['b.png']);
    expect(store.getState().batchFailures[0]!.message).toMatch(/unknown label/);
    expect(store.getState().batchRecords.map((record) => record.name)).toEqual(['a.png', 'c.png']);
  });

  it('no methods chosen: a clear message, nothing runs', async () => {
    const store = await ready();
    await store.getState().setMethods([]);
    await store.getState().startBatch(files(['a.png']));
    expect(engine.fileRequests).toEqual([]);
    expect(store.getState().lastError?.code).toBe('no-methods');
  });
});
