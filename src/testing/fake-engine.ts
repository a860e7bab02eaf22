/**
 * A fake engine for the store's tests: every call is recorded and can be held and released in any order,
 * so that races between requests (a newer load, a cancel, a crash) can be played out exactly. With the
 * helpers that build a store on it (makeStore) and the summaries it answers with.
 */
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
import type { BatchJournal } from '../state/batch-journal';
import { createStudioStore } from '../state/store';
import type { FetchResponseLike, StudioStore } from '../state/types';

// ---- a fake engine whose calls can be held and released in any order ----

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
};
export function studioError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: code });
}

export function bitmap(width: number, height: number): ImageBitmap & { closed: boolean } {
  const b = {
    width,
    height,
    closed: false,
    close() {
      b.closed = true;
    },
  };
  return b as unknown as ImageBitmap & { closed: boolean };
}

let nextLoadId = 1;

/** Load ids start at 1 again (each test). */
export function resetLoadIds(): void {
  nextLoadId = 1;
}
export function summary(name: string, overrides: Partial<ModelSummary> = {}): ModelSummary {
  return {
    loadId: nextLoadId++,
    name,
    source: `http://h/models/${name}/model.json`,
    format: 'tfjs-layers',
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
export function imageSummary(w = 300, h = 200): ImageSummary {
  return {
    originalWidth: w,
    originalHeight: h,
    crop: { x: 0, y: 0, width: w, height: h },
    resizePolicy: 'squash',
    policyDescription: `Resized (squashed) from ${w}x${h} to 224x224`,
    display: bitmap(w, h),
  };
}
export function analyzeResult(req: AnalyzeRequest, loadId: number, jobId: number): AnalyzeResult {
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

export class FakeEngine implements EngineApi {
  calls: string[] = [];
  held: { loadModel: Deferred<ModelSummary>[]; setImage: Deferred<ImageSummary>[]; analyze: Deferred<AnalyzeResult>[] } = {
    loadModel: [],
    setImage: [],
    analyze: [],
  };
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
    this.current = {
      ...this.current,
      ...(options.targetLayer ? { targetLayer: options.targetLayer } : {}),
      ...(options.resizePolicy ? { resizePolicy: options.resizePolicy } : {}),
    };
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
      jobId,
      loadId: this.current?.loadId ?? -1,
      backend: 'wasm',
      detectionRule: 'top 3',
      evaluation: {
        name: 'image 1',
        probabilities: [0.7, 0.2, 0.1],
        detected: [0],
        scores: { cam: { 0: { ic: 0, ad: 0.1, ar: 0.5, ado: null, aro: null, f1Plus: null, f1Minus: null } } },
        ms: 1,
      },
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
      name,
      probabilities: [0.8, 0.1],
      detected: [0],
      ms: 1,
      scores: Object.fromEntries(
        request.methods.map((method) => [method, { 0: { ic: 1, ad: 0.2, ar: 0.6, ado: null, aro: null, f1Plus: null, f1Minus: null } }]),
      ),
      ...(mask === null
        ? {}
        : {
            localisation: {
              classes: [0],
              perMethod: Object.fromEntries(
                request.methods.map((method) => [method, { hits: { 0: true }, confusion: [4, 0, 0, 4, 0, 0, 0, 0, 0] }]),
              ),
            },
          }),
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
      pixels: new Uint8ClampedArray(4 * 4 * 4).fill(200),
      pixelsShape: [4, 4],
      aspect: 1,
      top: { label: 1, name: 'class 1', prob: 0.9 },
      detected: [1],
      cells: request.cells.map((cell) => ({
        method: cell.method,
        label: cell.label === 'top' ? 1 : cell.label,
        shape: [2, 2] as [number, number],
        normalized: new Float32Array([0, 0.5, 1, 0.25]),
        raw: new Float32Array([0, 1, 2, 0.5]),
      })),
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
  async analyzeFile(
    image: Blob,
    request: Omit<AnalyzeRequest, 'displaySize'>,
  ): Promise<{ result: AnalyzeResult; displaySize: [number, number] }> {
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
      activationShape: [2, 2, 3],
      label: request.label,
      contrastLabel: request.contrastLabel,
      scores: [{ label: request.label, logit: 2, prob: 0.88 }],
      weights: { cam: new Float32Array([1, -2, 0.5]), gradcam: new Float32Array([0.25, -0.5, 0.125]), minmax: null, contrastCam: null },
      topChannels: [{ channel: 1, map }],
      sums: { cam: map, gradcam: map, minmax: null, contrastCam: null },
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
  async modelInput() {
    return { height: 1, width: 1, pixels: new Uint8Array(3) };
  }
}

export function response(body: unknown, ok = true): FetchResponseLike {
  return {
    ok,
    status: ok ? 200 : 404,
    statusText: ok ? 'OK' : 'Not Found',
    json: async () => body,
    blob: async () => new Blob([JSON.stringify(body)]),
  };
}

export const CATALOG = {
  models: [{ id: 'resnet50-imagenet', name: 'ResNet50 (ImageNet, Keras)', url: 'models/resnet50-imagenet/model.json' }],
};

export function makeStore(
  engine: FakeEngine,
  options: {
    search?: string;
    catalog?: unknown;
    catalogOk?: boolean;
    storage?: Map<string, string>;
    restarts?: Array<(reason: string, cause: 'crash' | 'device-lost') => void>;
    journal?: BatchJournal;
  } = {},
): StudioStore {
  const storage = options.storage;
  const restarts = options.restarts;
  return createStudioStore({
    engine,
    ...(options.journal === undefined ? {} : { batchJournal: options.journal }),
    ...(restarts === undefined
      ? {}
      : { onEngineRestart: (listener: (reason: string, cause: 'crash' | 'device-lost') => void) => void restarts.push(listener) }),
    ...(storage === undefined
      ? {}
      : {
          storage: {
            getItem: (key: string) => storage.get(key) ?? null,
            setItem: (key: string, value: string) => void storage.set(key, value),
          },
        }),
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

export const blob = (n: number): Blob => new Blob([new Uint8Array(n)], { type: 'image/png' });
