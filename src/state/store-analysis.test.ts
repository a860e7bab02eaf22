/** The studio store on a fake engine (src/testing/fake-engine.ts): images and analyses: supersession, stale results, labels, errors. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AnalyzeRequest } from '../shared/protocol';
import { CATALOG, FakeEngine, analyzeResult, blob, flush, makeStore, resetLoadIds, studioError, summary } from '../testing/fake-engine';
import { snapshotState } from './snapshot';
import { explainedLabels } from './selectors';
import type { StudioStore } from './types';

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  resetLoadIds();
});

describe('image and analysis', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    return store;
  }

  it('analyses with auto labels, default methods, top 5 and the display size', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    const s = store.getState();
    expect(engine.requests.at(-1)).toEqual({ labels: 'auto', methods: ['cam', 'gradcam'], topK: 5, displaySize: [200, 300] });
    expect(s.analysisStatus).toBe('done');
    expect(s.result?.labels).toEqual([281, 285]);
    expect(explainedLabels(s)).toEqual([281, 285]);
    const snap = snapshotState(s);
    expect(snap.maps[0]).toMatchObject({ method: 'cam', label: 281, shape: [2, 2], rawMin: 0, rawMax: 3.5 });
    expect(Array.isArray(snap.maps[0]?.normalized)).toBe(true);
    expect(snap.maps[0]?.normalized).toEqual([0, 0.25, 0.5, 1]);
    expect(snap.backend?.backend).toBe('wasm');
    expect(snap.status.analysis).toBe('done');
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('meta-methods: switching TTA or smoothing on re-analyses with the meta field, off removes it', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    await store.getState().setMeta({ tta: true });
    expect(engine.requests.at(-1)?.meta).toEqual({ tta: { hflip: true, scales: [0.5, 1.5, 2.0] } });
    await store.getState().setMeta({ smoothSamples: 4 });
    expect(engine.requests.at(-1)?.meta).toEqual({
      tta: { hflip: true, scales: [0.5, 1.5, 2.0] },
      smooth: { samples: 4, noiseLevel: 0.15, seed: 0 },
    });
    const n = engine.requests.length;
    await store.getState().setMeta({ smoothSamples: 4 }); // no change: no round trip
    expect(engine.requests.length).toBe(n);
    await store.getState().setMeta({ tta: false, smoothSamples: 0 });
    expect(engine.requests.at(-1)).not.toHaveProperty('meta');
  });

  it('a bad image shows an error and keeps the previous image and results', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    const { image, result } = store.getState();
    engine.failNextImage = studioError('image-decode-failed', 'This file could not be decoded as an image.');
    await store.getState().setImage(blob(5), 'broken.png');
    const s = store.getState();
    expect(s.image).toBe(image);
    expect(s.result).toBe(result);
    expect(s.imageName).toBe('cat.png');
    expect(s.analysisStatus).toBe('done');
    expect(s.lastError?.code).toBe('image-decode-failed');
  });

  it('a new image replaces the old one and closes its bitmap', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'a.png');
    const first = store.getState().image?.display as unknown as { closed: boolean };
    await store.getState().setImage(blob(200), 'b.png');
    expect(first.closed).toBe(true);
    expect(store.getState().imageName).toBe('b.png');
  });

  it('toggling a label re-analyses with explicit labels in prediction order', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    await store.getState().toggleLabel(282);
    expect(engine.requests.at(-1)?.labels).toEqual([281, 285, 282]);
    await store.getState().toggleLabel(281);
    expect(engine.requests.at(-1)?.labels).toEqual([285, 282]);
    expect(store.getState().result?.labels).toEqual([285, 282]);
  });

  it('unticking every label or method drops the maps without a round trip', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    const n = engine.requests.length;
    await store.getState().setMethods([]);
    expect(engine.requests.length).toBe(n);
    expect(store.getState().result?.maps).toEqual([]);
    expect(store.getState().result?.predictions).toHaveLength(3);
    await store.getState().toggleMethod('gradcam');
    expect(engine.requests.at(-1)?.methods).toEqual(['gradcam']);
  });

  it('ignores stale analysis results: the newest request wins', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    engine.hold.analyze = true;
    const older = store.getState().setTopK(3);
    const newer = store.getState().setTopK(1);
    await flush();
    expect(store.getState().analysisStatus).toBe('busy');
    const [d1, d2] = engine.held.analyze;
    const r2 = analyzeResult(engine.requests.at(-1) as AnalyzeRequest, store.getState().model?.loadId ?? 0, 99);
    d2?.resolve(r2);
    await newer;
    const r1 = analyzeResult(engine.requests.at(-2) as AnalyzeRequest, store.getState().model?.loadId ?? 0, 98);
    d1?.resolve(r1);
    await older;
    expect(store.getState().result?.jobId).toBe(99);
    expect(store.getState().result?.predictions).toHaveLength(1);
    expect(store.getState().analysisStatus).toBe('done');
  });

  it('cancel stops a running analysis and keeps the previous results', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    const before = store.getState().result;
    engine.hold.analyze = true;
    const p = store.getState().setTopK(3);
    await flush();
    expect(store.getState().analysisStatus).toBe('busy');
    await store.getState().cancelAnalysis();
    await p;
    expect(engine.cancelled).toBe(1);
    expect(store.getState().analysisStatus).toBe('done');
    expect(store.getState().result).toBe(before);
    expect(store.getState().lastError).toBeNull();
  });

  it('drops results computed for a model that is no longer current', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    const before = store.getState().result;
    engine.hold.analyze = true;
    const p = store.getState().setTopK(3);
    await flush();
    engine.held.analyze[0]?.resolve(analyzeResult(engine.requests.at(-1) as AnalyzeRequest, 12345, 7));
    await p;
    expect(store.getState().result).toBe(before);
  });

  it('an analysis error sets the error state and message', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    engine.analyze = async () => {
      throw studioError('method-unavailable', 'CAM needs a GAP -> Dense head.');
    };
    await store.getState().setTopK(3);
    expect(store.getState().analysisStatus).toBe('error');
    expect(store.getState().lastError?.message).toMatch(/GAP/);
    store.getState().dismissError();
    expect(store.getState().lastError).toBeNull();
  });

  it('only requests methods the model supports', async () => {
    engine.loadModel = async () => {
      engine.current = summary('generic', {
        headKind: 'generic',
        methods: [
          { id: 'cam', title: 'CAM', available: false, reason: 'no GAP head' },
          { id: 'gradcam', title: 'Grad-CAM', available: true },
        ],
      });
      return engine.current;
    };
    const store = await ready();
    await store.getState().setImage(blob(100), 'x.png');
    expect(engine.requests.at(-1)?.methods).toEqual(['gradcam']);
  });

  it('changing the resize policy reconfigures, then decodes the image again keeping the labels', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    await store.getState().toggleLabel(282);
    engine.calls = [];
    await store.getState().configureModel({ resizePolicy: 'center-crop' });
    expect(engine.calls).toEqual(['configure:{"resizePolicy":"center-crop"}', 'setImage:100', 'analyze']);
    expect(store.getState().model?.resizePolicy).toBe('center-crop');
    expect(engine.requests.at(-1)?.labels).toEqual([281, 285, 282]);
  });

  it('changing the target layer re-analyses', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    engine.calls = [];
    await store.getState().configureModel({ targetLayer: 'conv5_block3_out' });
    expect(engine.calls).toEqual(['configure:{"targetLayer":"conv5_block3_out"}', 'analyze']);
    expect(store.getState().model?.targetLayer).toBe('conv5_block3_out');
  });

  it('switching backend refreshes the model summary and the results', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    engine.calls = [];
    await store.getState().setBackend('cpu');
    expect(engine.calls).toEqual(['setBackend:cpu', 'configure:{}', 'setImage:100', 'analyze']);
    expect(store.getState().backend?.backend).toBe('cpu');
    expect(store.getState().requestedBackend).toBe('cpu');
    expect(store.getState().analysisStatus).toBe('done');
  });

  it('loads samples by fetching samples/<file>', async () => {
    const store = await ready();
    await store.getState().loadSample('chelsea.png', 'Cat (Chelsea)');
    expect(store.getState().imageName).toBe('Cat (Chelsea)');
    expect(store.getState().analysisStatus).toBe('done');
    await store.getState().loadSample('missing.png');
    expect(store.getState().lastError?.code).toBe('sample-fetch-failed');
    expect(store.getState().imageName).toBe('Cat (Chelsea)');
  });

  it('a sample made for other catalog models loads the first of them unless one is loaded; an unknown model id is ignored', async () => {
    const store = makeStore(engine, {
      catalog: {
        models: [
          ...CATALOG.models,
          { id: 'shapes-resnet', name: 'Shapes ResNet', url: 'models/shapes-resnet/model.json' },
          { id: 'shapes-resnest', name: 'Shapes ResNeSt', url: 'models/shapes-resnest/model.json' },
        ],
      },
    });
    await store.getState().start();
    const shapesModels = ['shapes-resnet', 'shapes-resnest'];
    await store.getState().loadSample('shapes/scene-00.png', 'Scene 00', shapesModels);
    expect(store.getState().model?.source).toMatch(/models\/shapes-resnet\/model.json$/);
    expect(store.getState().imageName).toBe('Scene 00');
    const loads = engine.calls.filter((call) => call.startsWith('load')).length;
    await store.getState().loadSample('shapes/scene-01.png', 'Scene 01', shapesModels);
    expect(engine.calls.filter((call) => call.startsWith('load')).length).toBe(loads);
    expect(store.getState().imageName).toBe('Scene 01');
    // The second model of the list, once loaded, is kept too.
    await store.getState().loadModelFromUrl('models/shapes-resnest/model.json', 'Shapes ResNeSt');
    const afterSwitch = engine.calls.filter((call) => call.startsWith('load')).length;
    await store.getState().loadSample('shapes/scene-02.png', 'Scene 02', shapesModels);
    expect(engine.calls.filter((call) => call.startsWith('load')).length).toBe(afterSwitch);
    expect(store.getState().model?.source).toMatch(/models\/shapes-resnest\/model.json$/);
    await store.getState().loadSample('chelsea.png', 'Cat', ['no-such-model']);
    expect(store.getState().model?.source).toMatch(/models\/shapes-resnest\/model.json$/);
    expect(store.getState().lastError).toBeNull();
  });

  it('a new model resets the label choice and re-analyses the image', async () => {
    const store = await ready();
    await store.getState().setImage(blob(100), 'cat.png');
    await store.getState().toggleLabel(282);
    await store.getState().loadModelFromUrl('models/other/model.json');
    const s = store.getState();
    expect(s.model?.name).toBe('other');
    expect(s.selectedLabels).toBe('auto');
    expect(engine.requests.at(-1)?.labels).toBe('auto');
    expect(s.result?.loadId).toBe(s.model?.loadId);
  });
});
