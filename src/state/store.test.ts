import { beforeEach, describe, expect, it } from 'vitest';
import type {
  AnalyzeRequest,
  AnalyzeResult,
  BackendChoice,
  BackendReport,
  EngineApi,
  ImageEvaluation,
  ImageSummary,
  LoadProgress,
  MetricsProgress,
  MetricsRequest,
  FigureRowRequest,
  FigureRowResult,
  WalkthroughData,
  WalkthroughRequest,
  MetricsResult,
  ModelSource,
  ModelSummary,
} from '../shared/protocol';
import { WALKTHROUGH_CHANNELS, WALKTHROUGH_STEPS } from './constants';
import { snapshotState } from './snapshot';
import { memoryBatchJournal, type BatchJournal } from './batch-journal';
import { classroomLabels, effectiveDetection, explainedLabels } from './selectors';
import { createStudioStore } from './store';
import type { FetchResponseLike, StudioStore } from './types';

// ---- a fake engine whose calls can be held and released in any order ----

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
};
function studioError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: code });
}

function bitmap(width: number, height: number): ImageBitmap & { closed: boolean } {
  const b = { width, height, closed: false, close() { b.closed = true; } };
  return b as unknown as ImageBitmap & { closed: boolean };
}

let nextLoadId = 1;
function summary(name: string, overrides: Partial<ModelSummary> = {}): ModelSummary {
  return {
    loadId: nextLoadId++,
    name,
    source: `http://h/models/${name}/model.json`,
    inputShape: [224, 224, 3],
    numClasses: 1000,
    labelNames: Array.from({ length: 1000 }, (_, k) => `class ${k}`),
    numParameters: 25_636_712,
    targetLayer: 'activation_48',
    targetLayerCandidates: [{ name: 'activation_48', shape: [7, 7, 2048] }],
    headKind: 'gap-dense',
    headActivation: 'softmax',
    preprocessing: 'caffe',
    preprocessingSource: 'metadata',
    resizePolicy: 'squash',
    labelsSource: 'labels.json',
    methods: [
      { id: 'cam', title: 'CAM', available: true },
      { id: 'gradcam', title: 'Grad-CAM', available: true },
    ],
    notes: [],
    ...overrides,
  };
}
function imageSummary(w = 300, h = 200): ImageSummary {
  return {
    originalWidth: w,
    originalHeight: h,
    crop: { x: 0, y: 0, width: w, height: h },
    resizePolicy: 'squash',
    policyDescription: `Resized (squashed) from ${w}x${h} to 224x224`,
    display: bitmap(w, h),
  };
}
function analyzeResult(req: AnalyzeRequest, loadId: number, jobId: number): AnalyzeResult {
  const labels = req.labels === 'auto' ? [281, 285] : req.labels;
  return {
    jobId,
    loadId,
    backend: 'wasm',
    notes: [],
    predictions: [
      { label: 281, name: 'tabby', prob: 0.6, logit: 9 },
      { label: 285, name: 'Egyptian_cat', prob: 0.3, logit: 8 },
      { label: 282, name: 'tiger_cat', prob: 0.05, logit: 6 },
    ].slice(0, req.topK),
    labels,
    detected: [281, 285],
    detectionRule: 'top-3',
    maps: labels.flatMap((label) =>
      req.methods.map((method) => ({
        method,
        label,
        resolution: 'feature' as const,
        extras: {},
        shape: [2, 2] as [number, number],
        normalized: new Float32Array([0, 0.25, 0.5, 1]),
        rawMin: 0,
        rawMax: 3.5,
        display: new Float32Array(req.displaySize[0] * req.displaySize[1]),
        displayShape: req.displaySize,
      })),
    ),
    timingsMs: { forward: 10, total: 20, methods: { cam: 1, gradcam: 5 } },
    forwardReused: false,
  };
}

class FakeEngine implements EngineApi {
  calls: string[] = [];
  held: { loadModel: Deferred<ModelSummary>[]; setImage: Deferred<ImageSummary>[]; analyze: Deferred<AnalyzeResult>[] } = { loadModel: [], setImage: [], analyze: [] };
  /** When true, calls wait in `held` until a test releases them; otherwise they answer at once. */
  hold = { loadModel: false, setImage: false, analyze: false };
  backend: BackendReport = { backend: 'wasm', requested: 'auto', adapter: null, reason: 'no WebGPU adapter: wasm' };
  current: ModelSummary | null = null;
  requests: AnalyzeRequest[] = [];
  failNextLoad: Error | null = null;
  failNextImage: Error | null = null;
  failInit: BackendChoice | null = null;
  job = 0;

  async init(choice: BackendChoice): Promise<BackendReport> {
    this.calls.push(`init:${choice}`);
    if (this.failInit === choice) throw studioError('backend-unavailable', `${choice} is not available here`);
    this.backend = { ...this.backend, requested: choice, backend: choice === 'auto' ? 'wasm' : choice };
    return this.backend;
  }
  async setBackend(choice: BackendChoice): Promise<BackendReport> {
    this.calls.push(`setBackend:${choice}`);
    this.backend = { ...this.backend, requested: choice, backend: choice === 'auto' ? 'wasm' : choice };
    return this.backend;
  }
  async loadModel(source: ModelSource, onProgress?: (p: LoadProgress) => void): Promise<ModelSummary> {
    this.calls.push(`loadModel:${source.kind === 'url' ? source.url : source.files.length}`);
    onProgress?.({ loadedBytes: 50, totalBytes: 100, stage: 'fetching' });
    if (this.failNextLoad) {
      const e = this.failNextLoad;
      this.failNextLoad = null;
      throw e;
    }
    const name = source.kind === 'url' ? (source.url.split('/').slice(-2)[0] ?? 'm') : 'files';
    const made = source.kind === 'url' ? summary(name, { source: source.url }) : summary(name);
    if (this.hold.loadModel) {
      const d = deferred<ModelSummary>();
      this.held.loadModel.push(d);
      const s = await d.promise;
      this.current = s;
      return s;
    }
    this.current = made;
    return made;
  }
  async configureModel(options: Parameters<EngineApi['configureModel']>[0]): Promise<ModelSummary> {
    this.calls.push(`configure:${JSON.stringify(options)}`);
    if (!this.current) throw studioError('no-model', 'Load a model first.');
    this.current = { ...this.current, ...(options.targetLayer ? { targetLayer: options.targetLayer } : {}), ...(options.resizePolicy ? { resizePolicy: options.resizePolicy } : {}) };
    return this.current;
  }
  async setImage(image: Blob): Promise<ImageSummary> {
    this.calls.push(`setImage:${image.size}`);
    if (this.failNextImage) {
      const e = this.failNextImage;
      this.failNextImage = null;
      throw e;
    }
    if (this.hold.setImage) {
      const d = deferred<ImageSummary>();
      this.held.setImage.push(d);
      return d.promise;
    }
    return imageSummary();
  }
  async analyze(request: AnalyzeRequest): Promise<AnalyzeResult> {
    this.calls.push('analyze');
    this.requests.push(request);
    const loadId = this.current?.loadId ?? -1;
    const result = analyzeResult(request, loadId, ++this.job);
    if (this.hold.analyze) {
      const d = deferred<AnalyzeResult>();
      this.held.analyze.push(d);
      await d.promise.catch(() => undefined);
      return d.promise;
    }
    return result;
  }
  metricsRequests: MetricsRequest[] = [];
  heldMetrics: Array<Deferred<MetricsResult>> = [];
  holdMetrics = false;
  async evaluateMetrics(request: MetricsRequest, onProgress?: (progress: MetricsProgress) => void): Promise<MetricsResult> {
    this.calls.push('evaluateMetrics');
    this.metricsRequests.push(request);
    const jobId = ++this.job;
    onProgress?.({ jobId, stage: 'methods', done: 1, total: request.methods.length });
    const result: MetricsResult = {
      jobId, loadId: this.current?.loadId ?? -1, backend: 'wasm', detectionRule: 'top 3',
      evaluation: { name: 'image 1', probabilities: [0.7, 0.2, 0.1], detected: [0], scores: { cam: { 0: { ic: 0, ad: 0.1, ar: 0.5, ado: null, aro: null, f1Plus: null, f1Minus: null } } }, ms: 1 },
    };
    if (this.holdMetrics) {
      const d = deferred<MetricsResult>();
      this.heldMetrics.push(d);
      return d.promise;
    }
    return result;
  }
  fileRequests: string[] = [];
  failFile: Set<string> = new Set();
  holdFiles = false;
  heldFiles: Array<Deferred<ImageEvaluation>> = [];
  async evaluateFile(_image: Blob, mask: Blob | null, name: string, request: MetricsRequest): Promise<ImageEvaluation> {
    this.calls.push(`evaluateFile:${name}`);
    this.fileRequests.push(name);
    if (this.failFile.has(name)) throw studioError('image-decode-failed', `${name} is not an image`);
    const record: ImageEvaluation = {
      name, probabilities: [0.8, 0.1], detected: [0], ms: 1,
      scores: Object.fromEntries(request.methods.map((method) => [method, { 0: { ic: 1, ad: 0.2, ar: 0.6, ado: null, aro: null, f1Plus: null, f1Minus: null } }])),
      ...(mask === null ? {} : { localisation: { classes: [0], perMethod: Object.fromEntries(request.methods.map((method) => [method, { hits: { 0: true }, confusion: [4, 0, 0, 4, 0, 0, 0, 0, 0] }])) } }),
    };
    if (this.holdFiles) {
      const d = deferred<ImageEvaluation>();
      this.heldFiles.push(d);
      return d.promise;
    }
    return record;
  }
  figureRequests: Array<{ name: string; request: FigureRowRequest }> = [];
  holdFigure = false;
  heldFigure: Array<Deferred<FigureRowResult>> = [];
  async explainFigureRow(image: Blob, request: FigureRowRequest): Promise<FigureRowResult> {
    const name = await image.text();
    this.calls.push(`explainFigureRow:${name}`);
    this.figureRequests.push({ name, request });
    if (name === 'broken') throw studioError('image-decode-failed', 'broken is not an image');
    const result: FigureRowResult = {
      pixels: new Uint8ClampedArray(4 * 4 * 4).fill(200), pixelsShape: [4, 4], top: { label: 1, name: 'class 1', prob: 0.9 }, detected: [1],
      cells: request.cells.map((cell) => ({ method: cell.method, label: cell.label === 'top' ? 1 : cell.label, shape: [2, 2] as [number, number], normalized: new Float32Array([0, 0.5, 1, 0.25]), raw: new Float32Array([0, 1, 2, 0.5]) })),
    };
    if (this.holdFigure) {
      const d = deferred<FigureRowResult>();
      this.heldFigure.push(d);
      return d.promise;
    }
    return result;
  }
  fileAnalyses: string[] = [];
  holdFileAnalysis = false;
  heldFileAnalyses: Array<Deferred<{ result: AnalyzeResult; displaySize: [number, number] }>> = [];
  async analyzeFile(image: Blob, request: Omit<AnalyzeRequest, 'displaySize'>): Promise<{ result: AnalyzeResult; displaySize: [number, number] }> {
    this.calls.push(`analyzeFile:${image.size}`);
    this.fileAnalyses.push(`${image.size}`);
    const displaySize: [number, number] = [200, 300];
    const value = { result: analyzeResult({ ...request, displaySize }, this.current?.loadId ?? -1, ++this.job), displaySize };
    if (this.holdFileAnalysis) {
      const d = deferred<{ result: AnalyzeResult; displaySize: [number, number] }>();
      this.heldFileAnalyses.push(d);
      return d.promise;
    }
    return value;
  }
  walkthroughRequests: WalkthroughRequest[] = [];
  async walkthrough(request: WalkthroughRequest): Promise<WalkthroughData> {
    this.walkthroughRequests.push(request);
    const map = { values: new Float32Array([1, -1, 0.5, 0]), min: -1, max: 1 };
    return {
      activationShape: [2, 2, 3], label: request.label, contrastLabel: request.contrastLabel,
      scores: [{ label: request.label, logit: 2, prob: 0.88 }],
      weights: { cam: new Float32Array([1, -2, 0.5]), gradcam: new Float32Array([0.25, -0.5, 0.125]), minmax: null, contrastCam: null },
      topChannels: [{ channel: 1, map }], sums: { cam: map, gradcam: map, minmax: null, contrastCam: null },
    };
  }
  cancelled = 0;
  async cancel(): Promise<void> {
    for (const d of this.heldFigure) d.reject(studioError('cancelled', 'Cancelled.'));
    for (const d of this.heldFileAnalyses) d.reject(studioError('cancelled', 'Cancelled.'));
    for (const d of this.heldFiles) d.reject(studioError('cancelled', 'Cancelled.'));
    for (const d of this.heldMetrics) d.reject(studioError('cancelled', 'Cancelled.'));
    this.calls.push('cancel');
    this.cancelled++;
    for (const d of this.held.analyze) d.reject(studioError('cancelled', 'Cancelled.'));
  }
  async simulateDeviceLoss(): Promise<void> {
    this.calls.push('simulateDeviceLoss');
  }
  async memory() {
    return { numTensors: 0, numBytes: 0 };
  }
}

function response(body: unknown, ok = true): FetchResponseLike {
  return {
    ok,
    status: ok ? 200 : 404,
    statusText: ok ? 'OK' : 'Not Found',
    json: async () => body,
    blob: async () => new Blob([JSON.stringify(body)]),
  };
}

const CATALOG = { models: [{ id: 'resnet50-imagenet', name: 'ResNet50 (ImageNet, Keras)', url: 'models/resnet50-imagenet/model.json' }] };

function makeStore(engine: FakeEngine, options: { search?: string; catalog?: unknown; catalogOk?: boolean; storage?: Map<string, string>; restarts?: Array<(reason: string, cause: 'crash' | 'device-lost') => void>; journal?: BatchJournal } = {}): StudioStore {
  const storage = options.storage;
  const restarts = options.restarts;
  return createStudioStore({
    engine,
    ...(options.journal === undefined ? {} : { batchJournal: options.journal }),
    ...(restarts === undefined ? {} : { onEngineRestart: (listener: (reason: string, cause: 'crash' | 'device-lost') => void) => void restarts.push(listener) }),
    ...(storage === undefined ? {} : { storage: { getItem: (key: string) => storage.get(key) ?? null, setItem: (key: string, value: string) => void storage.set(key, value) } }),
    baseUrl: 'http://127.0.0.1:5173/',
    search: options.search ?? '',
    fetch: async (url) => {
      if (url.endsWith('models/catalog.json')) {
        if (options.catalogOk === false) throw new TypeError('Failed to fetch');
        return response(options.catalog ?? CATALOG);
      }
      if (url.includes('/samples/')) return url.includes('missing') ? response(null, false) : response({ sample: url });
      return response(null, false);
    },
  });
}

const blob = (n: number): Blob => new Blob([new Uint8Array(n)], { type: 'image/png' });

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  nextLoadId = 1;
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
    expect(s.lastError).toEqual({ code: 'missing-shard', message: 'group1-shard2of2.bin is missing: add it beside model.json.', context: 'Loading the model broken' });
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
    expect(engine.requests.at(-1)?.meta).toEqual({ tta: { hflip: true, scales: [0.5, 1.5, 2.0] }, smooth: { samples: 4, noiseLevel: 0.15, seed: 0 } });
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
      engine.current = summary('generic', { headKind: 'generic', methods: [{ id: 'cam', title: 'CAM', available: false, reason: 'no GAP head' }, { id: 'gradcam', title: 'Grad-CAM', available: true }] });
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

  it('a sample made for another catalog model loads that model first, once; an unknown model id is ignored', async () => {
    const store = makeStore(engine, { catalog: { models: [...CATALOG.models, { id: 'shapes-resnet', name: 'Shapes ResNet', url: 'models/shapes-resnet/model.json' }] } });
    await store.getState().start();
    await store.getState().loadSample('shapes/scene-00.png', 'Scene 00', 'shapes-resnet');
    expect(store.getState().model?.source).toMatch(/models\/shapes-resnet\/model.json$/);
    expect(store.getState().imageName).toBe('Scene 00');
    const loads = engine.calls.filter((call) => call.startsWith('load')).length;
    await store.getState().loadSample('shapes/scene-01.png', 'Scene 01', 'shapes-resnet');
    expect(engine.calls.filter((call) => call.startsWith('load')).length).toBe(loads);
    expect(store.getState().imageName).toBe('Scene 01');
    await store.getState().loadSample('chelsea.png', 'Cat', 'no-such-model');
    expect(store.getState().model?.source).toMatch(/models\/shapes-resnet\/model.json$/);
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
    expect(effectiveDetection({ detection: null, model: { ...model, headActivation: 'sigmoid' } })).toEqual({ kind: 'sigmoid', threshold: 0.5 });
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
    expect(engine.metricsRequests.at(-1)).toMatchObject({ methods: ['cam', 'gradcam'], detection: { kind: 'top-k', k: 2 }, curveSteps: 16 });
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
    const crashes = new Map<string, number>([['b.png', 1], ['c.png', 2]]);
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
    expect(s.notices.filter((notice) => /restarted/.test(notice)), 'one restart per crash: b once, c twice').toHaveLength(3);
  });

  it('an engine crash between two images (no call in flight): the next image waits for the restarted engine', async () => {
    const store = await ready();
    const original = engine.evaluateFile.bind(engine);
    let crashed = false;
    engine.evaluateFile = async (image, mask, name, request) => {
      // A fresh worker has no model until the store has loaded it again.
      if (store.getState().modelStatus !== 'ready' || store.getState().backendStatus !== 'ready') throw studioError('no-model', 'No model is loaded yet.');
      const record = await original(image, mask, name, request);
      if (name === 'a.png' && !crashed) {
        crashed = true;
        // The worker dies right after answering a.png; loading the model again takes a while.
        engine.hold.loadModel = true;
        void store.getState().recoverEngine('The engine worker stopped.');
        setTimeout(() => {
          engine.hold.loadModel = false;
          const held = engine.held.loadModel.shift()!;
          held.resolve(summary('m', { source: String(store.getState().modelSource && (store.getState().modelSource as { url?: string }).url) }));
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
    await journal.saveProgress({ version: 1, modelName: 'Some other net', methods: ['cam'], detection: null, records: [], failures: [], next: 0, total: 2, elapsedMs: 0, savedAt: 0 });
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

describe('figure builder', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    return store;
  }
  const image = (name: string) => ({ name: `${name}.png`, blob: new Blob([name]) });

  it('explains each image once for its cells; a look-only change needs no engine, a column change re-explains', async () => {
    const store = await ready();
    store.getState().addFigureImages([image('a'), image('broken'), image('b')]);
    store.getState().setFigureSpec({ methods: ['cam', 'gradcam'], label: 'top' });
    await store.getState().buildFigure();
    const s = store.getState();
    expect(engine.figureRequests.map((r) => r.name)).toEqual(['a', 'broken', 'b']);
    expect(engine.figureRequests[0]!.request.cells).toEqual([{ method: 'cam', label: 'top' }, { method: 'gradcam', label: 'top' }]);
    expect(Object.keys(s.figureRows)).toEqual(['a.png', 'b.png']);
    expect(s.figureFailures).toEqual({ 'broken.png': 'broken is not an image' });
    expect(s.figureStatus).toBe('done');

    store.getState().setFigureSpec({ colormap: 'viridis', opacity: 0.8, width: 'single' });
    store.getState().removeFigureImage('broken.png');
    await store.getState().buildFigure();
    expect(engine.figureRequests).toHaveLength(3); // nothing to explain again

    store.getState().addFigureImages([image('a')]); // same name: kept apart
    expect(store.getState().figureImages.map((i) => i.name)).toEqual(['a.png', 'b.png', 'a (2).png']);
    await store.getState().buildFigure();
    expect(engine.figureRequests.map((r) => r.name).slice(3)).toEqual(['a']);

    store.getState().setFigureSpec({ columns: 'labels', labels: [0, 2], methods: ['minmax-cam'] });
    await store.getState().buildFigure();
    expect(engine.figureRequests).toHaveLength(7);
    expect(engine.figureRequests[6]!.request.cells).toEqual([{ method: 'minmax-cam', label: 0 }, { method: 'minmax-cam', label: 2 }]);
    store.getState().moveFigureImage('a (2).png', -1);
    expect(store.getState().figureImages.map((i) => i.name)).toEqual(['a.png', 'a (2).png', 'b.png']);
  });

  it('cancel stops the build and keeps the rows done', async () => {
    const store = await ready();
    store.getState().addFigureImages([image('a'), image('b')]);
    engine.holdFigure = true;
    const building = store.getState().buildFigure();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await store.getState().cancelFigure();
    await building;
    expect(store.getState().figureStatus).toBe('cancelled');
    expect(store.getState().figureProgress).toBeNull();
    expect(engine.figureRequests).toHaveLength(1);
  });

  it('saves settings with the images and the catalog model, and loads them back (samples fetched, others listed as missing)', async () => {
    const store = await ready();
    store.getState().addFigureImages([{ ...image('scene'), src: 'samples/shapes/scene.png' }, image('mine')]);
    store.getState().setFigureSpec({ methods: ['gradcam'], colormap: 'magma' });
    const json = store.getState().figureSpecJson();
    const saved = JSON.parse(json) as { model: string; images: unknown[]; colormap: string };
    expect(saved.model).toBe('resnet50-imagenet');
    expect(saved.images).toEqual([{ name: 'scene.png', src: 'samples/shapes/scene.png' }, { name: 'mine.png' }]);
    const other = await ready();
    await other.getState().loadFigureSpec(json);
    const s = other.getState();
    expect(s.figureSpec.colormap).toBe('magma');
    expect(s.figureSpec.methods).toEqual(['gradcam']);
    expect(s.figureImages.map((i) => [i.name, i.src])).toEqual([['scene.png', 'samples/shapes/scene.png']]);
    expect(s.figureMissing).toEqual(['mine.png']);
    other.getState().addFigureImages([image('mine')]);
    expect(other.getState().figureMissing).toEqual([]);
  });

  it('bad settings files get a message naming the problem, and the figure stays', async () => {
    const store = await ready();
    store.getState().addFigureImages([image('a')]);
    await store.getState().loadFigureSpec('{ not json');
    expect(store.getState().lastError?.code).toBe('figure-settings');
    await store.getState().loadFigureSpec(JSON.stringify({ methods: ['cam'], label: 5000 }));
    expect(store.getState().lastError?.message).toMatch(/"label" must be a class index from 0 to/);
    expect(store.getState().figureImages).toHaveLength(1);
  });
});

describe('classroom walkthrough', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    await store.getState().setImage(blob(100), 'cat.png');
    return store;
  }

  it('defaults to the top prediction contrasted with the next; L / C cycle without ever making them equal', async () => {
    const store = await ready();
    const labels = () => classroomLabels(store.getState());
    expect(labels()).toEqual({ label: 281, contrast: 285 });
    store.getState().cycleClassroomLabel('label', 1); // 285 is the contrast: skipped
    expect(labels()).toEqual({ label: 282, contrast: 285 });
    store.getState().cycleClassroomLabel('contrast', 1);
    expect(labels()).toEqual({ label: 282, contrast: 281 });
    store.getState().cycleClassroomLabel('label', -1);
    expect(labels().label).not.toBe(labels().contrast);
  });

  it('loads the numbers once per image, label and contrast; steps and methods stay in range', async () => {
    const store = await ready();
    await store.getState().loadWalkthrough();
    await store.getState().loadWalkthrough();
    expect(engine.walkthroughRequests).toEqual([{ label: 281, contrastLabel: 285, channels: WALKTHROUGH_CHANNELS }]);
    expect(store.getState().walkthroughStatus).toBe('done');
    store.getState().cycleClassroomLabel('label', 1);
    await store.getState().loadWalkthrough();
    expect(engine.walkthroughRequests.at(-1)).toEqual({ label: 282, contrastLabel: 285, channels: WALKTHROUGH_CHANNELS });
    store.getState().stepClassroom(-1);
    expect(store.getState().classroomStep).toBe(0);
    store.getState().setClassroomStep(99);
    expect(store.getState().classroomStep).toBe(WALKTHROUGH_STEPS.length - 1);
    const methods = [store.getState().classroomMethod];
    for (let i = 0; i < 3; i += 1) {
      store.getState().cycleClassroomMethod();
      methods.push(store.getState().classroomMethod);
    }
    expect(methods).toEqual(['cam', 'gradcam', 'minmax-cam', 'cam']);
  });
});

describe('settings across reloads and shared links', () => {
  it("a reload restores the mode, methods and look; a link's settings override them; defaults never overwrite before start", async () => {
    const storage = new Map<string, string>();
    const first = makeStore(engine, { storage });
    first.getState().setColormap('viridis'); // before start: not written (start has not read the stored settings yet)
    expect(storage.size).toBe(0);
    await first.getState().start();
    first.getState().setColormap('magma');
    first.getState().setMode('figure');
    await first.getState().setMethods(['minmax-cam', 'cam']);
    first.getState().setOpacity(0.8);

    const reloaded = makeStore(engine, { storage });
    await reloaded.getState().start();
    let s = reloaded.getState();
    expect([s.colormap, s.mode, s.methods, s.opacity]).toEqual(['magma', 'figure', ['cam', 'minmax-cam'], 0.8]);

    const linked = makeStore(engine, { storage, search: '?colormap=cividis&mode=classroom&methods=gradcam&detect=topk:2&opacity=nope' });
    await linked.getState().start();
    s = linked.getState();
    expect([s.colormap, s.mode, s.methods, s.opacity, s.detection]).toEqual(['cividis', 'classroom', ['gradcam'], 0.8, { kind: 'top-k', k: 2 }]);
    expect(s.notices.some((notice) => /opacity/.test(notice))).toBe(true);
    expect(JSON.parse(storage.get('cam-studio.settings.v1')!)).toMatchObject({ colormap: 'cividis', mode: 'classroom' });
  });
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
    await store.getState().enqueueImages([{ name: 'a.png', blob: blob(11) }, { name: 'b.png', blob: blob(12) }, { name: 'c.png', blob: blob(13) }]);
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
    await store.getState().enqueueImages([{ name: 'a.png', blob: blob(21) }, { name: 'b.png', blob: blob(22) }]);
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
