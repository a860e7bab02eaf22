/** The studio store on a fake engine (src/testing/fake-engine.ts): the view, the detected-set rule, method options and the grid. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AnalyzeRequest } from '../shared/protocol';
import { FakeEngine, analyzeResult, blob, flush, makeStore, resetLoadIds, summary } from '../testing/fake-engine';
import { snapshotState } from './snapshot';
import { effectiveDetection } from './selectors';
import type { StudioStore } from './types';

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  resetLoadIds();
});

describe('view settings', () => {
  it('has the documented defaults and clamps opacity and top-k', async () => {
    const store = makeStore(engine);
    const s = store.getState();
    expect(s.colormap).toBe('turbo');
    expect(s.opacity).toBe(0.5);
    expect(s.methods).toEqual(['cam', 'gradcam']);
    expect(s.topK).toBe(5);
    s.setOpacity(3);
    expect(store.getState().opacity).toBe(1);
    await store.getState().setTopK(0);
    expect(store.getState().topK).toBe(1);
    store.getState().setColormap('viridis');
    expect(store.getState().colormap).toBe('viridis');
  });
});

describe('detected set, method options and grid', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    await store.getState().setImage(blob(100), 'cat.png');
    return store;
  }

  it('the rule defaults to the head: top 3 for softmax, sigmoid > 0.5 for sigmoid heads', async () => {
    const store = await ready();
    expect(store.getState().detection).toBeNull();
    expect(effectiveDetection(store.getState())).toEqual({ kind: 'top-k', k: 3 });
    // A stable value for React's useSyncExternalStore (a fresh object per call loops forever).
    expect(effectiveDetection(store.getState())).toBe(effectiveDetection(store.getState()));
    expect(engine.requests.at(-1)).not.toHaveProperty('detection');
    const model = store.getState().model;
    if (!model) throw new Error('no model');
    expect(effectiveDetection({ detection: null, model: { ...model, headActivation: 'sigmoid' } })).toEqual({
      kind: 'sigmoid',
      threshold: 0.5,
    });
    expect(snapshotState(store.getState())).toMatchObject({ detection: { kind: 'top-k', k: 3 }, detectionChosen: false });
  });

  it('a new rule with auto labels re-analyses with labels auto and the rule', async () => {
    const store = await ready();
    const n = engine.requests.length;
    await store.getState().setDetection({ kind: 'probability', threshold: 0.2 });
    expect(engine.requests.length).toBe(n + 1);
    expect(engine.requests.at(-1)).toMatchObject({ labels: 'auto', detection: { kind: 'probability', threshold: 0.2 } });
    expect(store.getState().selectedLabels).toBe('auto');
    // The same rule again: no new request.
    await store.getState().setDetection({ kind: 'probability', threshold: 0.2 });
    expect(engine.requests.length).toBe(n + 1);
    expect(snapshotState(store.getState())).toMatchObject({ detection: { kind: 'probability', threshold: 0.2 }, detectionChosen: true });
  });

  it('a new rule keeps labels chosen by hand and passes the rule (MinMax uses it)', async () => {
    const store = await ready();
    await store.getState().toggleLabel(282);
    await store.getState().setDetection({ kind: 'ground-truth', labels: [285, 282] });
    expect(engine.requests.at(-1)).toMatchObject({ labels: [281, 285, 282], detection: { kind: 'ground-truth', labels: [285, 282] } });
    expect(store.getState().selectedLabels).toEqual([281, 285, 282]);
  });

  it('choosing the head default again (or null) goes back to following the head', async () => {
    const store = await ready();
    await store.getState().setDetection({ kind: 'top-k', k: 5 });
    expect(store.getState().detection).toEqual({ kind: 'top-k', k: 5 });
    await store.getState().setDetection({ kind: 'top-k', k: 3 });
    expect(store.getState().detection).toBeNull();
    expect(engine.requests.at(-1)).not.toHaveProperty('detection');
  });

  it('with no methods ticked, a rule change still asks the engine (the detected set changes)', async () => {
    const store = await ready();
    await store.getState().setMethods([]);
    const n = engine.requests.length;
    await store.getState().setDetection({ kind: 'top-k', k: 1 });
    expect(engine.requests.length).toBe(n + 1);
    expect(engine.requests.at(-1)).toMatchObject({ methods: [], detection: { kind: 'top-k', k: 1 } });
  });

  it('a new model resets the rule', async () => {
    const store = await ready();
    await store.getState().setDetection({ kind: 'top-k', k: 5 });
    await store.getState().loadModelFromUrl('models/other/model.json');
    expect(store.getState().detection).toBeNull();
    expect(engine.requests.at(-1)).not.toHaveProperty('detection');
  });

  it('method options re-analyse only when a chosen method uses them, and are sent whole per family', async () => {
    engine.loadModel = async () => {
      engine.current = summary('lib', {
        methods: [
          { id: 'cam', title: 'CAM', available: true },
          { id: 'gradcam', title: 'Grad-CAM', available: true },
          { id: 'scorecam', title: 'Score-CAM', available: true },
          { id: 'integrated-gradients', title: 'Integrated Gradients', available: true },
        ],
      });
      return engine.current;
    };
    const store = await ready();
    const n = engine.requests.length;
    await store.getState().setMethodOptions({ scorecam: { maxChannels: 32, variant: 'softmax-logits' } });
    expect(engine.requests.length).toBe(n);
    expect(store.getState().methodOptions.scorecam).toEqual({ variant: 'softmax-logits', batchSize: 16, maxChannels: 32 });
    await store.getState().toggleMethod('scorecam');
    expect(engine.requests.at(-1)).toMatchObject({
      methods: ['cam', 'gradcam', 'scorecam'],
      options: { scorecam: { variant: 'softmax-logits', batchSize: 16, maxChannels: 32 } },
    });
    expect(engine.requests.at(-1)?.options).not.toHaveProperty('integratedGradients');
    await store.getState().setMethodOptions({ scorecam: { maxChannels: null } });
    expect(engine.requests.length).toBe(n + 2);
    expect(engine.requests.at(-1)?.options).toEqual({ scorecam: { variant: 'softmax-logits', batchSize: 16, maxChannels: null } });
    // Unchanged values: nothing to do.
    await store.getState().setMethodOptions({ scorecam: { maxChannels: null } });
    expect(engine.requests.length).toBe(n + 2);
    await store.getState().resetMethodOptions();
    expect(engine.requests.length).toBe(n + 3);
    expect(engine.requests.at(-1)).not.toHaveProperty('options');
  });

  it('remembers the running request while busy, for the progress line', async () => {
    const store = await ready();
    engine.hold.analyze = true;
    const p = store.getState().setTopK(3);
    await flush();
    expect(store.getState().runningRequest?.topK).toBe(3);
    engine.held.analyze[0]?.resolve(analyzeResult(engine.requests.at(-1) as AnalyzeRequest, store.getState().model?.loadId ?? 0, 50));
    await p;
    expect(store.getState().runningRequest).toBeNull();
    expect(store.getState().analysisStatus).toBe('done');
  });

  it('cancel clears the running request', async () => {
    const store = await ready();
    engine.hold.analyze = true;
    const p = store.getState().setTopK(3);
    await flush();
    await store.getState().cancelAnalysis();
    await p;
    expect(store.getState().runningRequest).toBeNull();
    expect(store.getState().analyzeProgress).toBeNull();
  });

  it('transposes the grid without re-analysing, and orders unknown method ids last', async () => {
    const store = await ready();
    const n = engine.requests.length;
    store.getState().setGridTransposed(true);
    expect(store.getState().gridTransposed).toBe(true);
    expect(engine.requests.length).toBe(n);
    await store.getState().setMethods(['fullgrad' as never, 'gradcam', 'cam']);
    expect(store.getState().methods).toEqual(['cam', 'gradcam', 'fullgrad']);
  });
});
