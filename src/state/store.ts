/**
 * The studio's one store, composed of typed slices (engine/backend, model, image, analysis, view, errors),
 * actions beside their state. A vanilla zustand store (`createStudioStore`) so it runs in Node tests with a
 * fake engine; React reads it through `useStudio` (src/state/react.ts).
 *
 * Rules the actions keep:
 * - every async action shows a busy state while it runs;
 * - a newer request supersedes an older one: each kind of request has a sequence number, and a result
 *   whose number is no longer the latest is dropped (analysis results also carry the model's loadId);
 * - a model load that fails keeps the current model; a bad image keeps the previous image and results;
 * - errors go to `lastError` (shown in a banner), never thrown out of an action.
 */
import { createStore, type StateCreator, type StoreApi } from 'zustand/vanilla';
import { DEFAULT_COLORMAP, type ColormapId } from '../charts/colormap';
import { METHOD_IDS } from '../core/methods/method-ids';
import type {
  AnalyzeProgress,
  AnalyzeRequest,
  AnalyzeResult,
  BackendChoice,
  BackendReport,
  DetectionRule,
  EngineApi,
  ImageSummary,
  LoadProgress,
  MethodId,
  ImageEvaluation,
  MetricsProgress,
  MetricsResult,
  MethodOptions,
  ModelSource,
  ModelSummary,
  PreprocessingId,
  ResizePolicy,
} from '../worker/protocol';
import {
  DEFAULT_METHOD_OPTIONS,
  defaultDetectionRule,
  mergeMethodOptions,
  optionsForRequest,
  sameRule,
  type MethodOptionsPatch,
} from './analysis-options';
import { figureSlice, type FigureSlice } from './figure-slice';
import { classroomSlice, type ClassroomSlice } from './classroom-slice';
import { inspectorSlice, type InspectorSlice } from './inspector-slice';
import { parseStoredSettings, settingsFromSearch, settingsOf, SETTINGS_STORAGE_KEY } from './settings';
import { queueSlice, queuedResult, rememberQueuedResult, type QueueSlice } from './queue-slice';
import { batchSlice, type BatchSlice } from './batch-slice';
import type { BatchJournal } from './batch-journal';
import { isCancelled, toUiError, type UiError } from './errors';
import { nameFromUrl, parseCatalog, parseStartupParams, resolveUrl, type CatalogEntry } from './startup';

/** The part of `fetch`'s response the store reads (so tests can fake it). */

/** The meta-methods the user switched on (see src/core/methods/meta.ts). */
export interface MetaSettings {
  /** Test-time augmentation: horizontal flip x scales 0.5, 1.5, 2.0. */
  tta: boolean;
  /** Noise smoothing: mean over this many noisy copies (0 = off). */
  smoothSamples: number;
}

export const DEFAULT_META_SETTINGS: MetaSettings = { tta: false, smoothSamples: 0 };

/** The `meta` field of an analyze request, absent when no meta-method is on. */
export function metaForRequest(meta: MetaSettings): Pick<AnalyzeRequest, 'meta'> | Record<string, never> {
  if (!meta.tta && meta.smoothSamples <= 0) return {};
  return {
    meta: {
      ...(meta.tta ? { tta: { hflip: true, scales: [0.5, 1.5, 2.0] } } : {}),
      ...(meta.smoothSamples > 0 ? { smooth: { samples: meta.smoothSamples, noiseLevel: 0.15, seed: 0 } } : {}),
    },
  };
}

export interface FetchResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  json(): Promise<unknown>;
  blob(): Promise<Blob>;
}

export interface StudioDeps {
  engine: EngineApi;
  fetch: (url: string) => Promise<FetchResponseLike>;
  /** The page's base URL: relative model and sample URLs resolve against it. */
  baseUrl: string;
  /** `location.search` at startup. */
  search: string;
  /** Registers a listener for engine restarts after a crash (the page's engine client; absent in tests). */
  onEngineRestart?: (listener: (reason: string, cause: 'crash' | 'device-lost') => void) => void;
  /** Where settings persist across reloads (localStorage in the page; absent: nothing persists). */
  storage?: SettingsStorage;
  /** Where a running folder evaluation is journaled (IndexedDB in the page; absent: nothing persists). */
  batchJournal?: BatchJournal;
}

/** The part of `Storage` the store uses. */
export interface SettingsStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const DEFAULT_METHODS: readonly MethodId[] = ['cam', 'gradcam'];
export const DEFAULT_TOP_K = 5;
export const DEFAULT_OPACITY = 0.5;
export const CATALOG_PATH = 'models/catalog.json';

export type WhileBusy = 'supersede' | 'queue';

export type BackendStatus = 'idle' | 'starting' | 'ready' | 'switching' | 'error';
export type ModelStatus = 'idle' | 'loading' | 'ready' | 'error';
export type ImageStatus = 'idle' | 'waiting-for-model' | 'loading' | 'ready' | 'error';
export type AnalysisStatus = 'idle' | 'busy' | 'done' | 'error';
export type CatalogStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface EngineSlice {
  backend: BackendReport | null;
  backendStatus: BackendStatus;
  /** The choice shown in the backend select. */
  requestedBackend: BackendChoice;
  /** Startup: URL params, catalog, init(backend), then the first model. */
  start(): Promise<void>;
  /** Switches the backend; the worker reloads the model, the store refreshes the summary and the results. */
  setBackend(choice: BackendChoice): Promise<void>;
  /**
   * After the engine worker crashed and was replaced by a fresh one: starts the backend again, reloads the
   * model, sets the image again and redoes the analysis, with a notice instead of an error.
   */
  /**
   * After the engine worker was replaced (a crash, or a lost WebGPU device): starts the backend again (wasm
   * instead once WebGPU has lost its device twice within ten minutes), reloads the model, redoes the work.
   */
  recoverEngine(reason: string, cause?: 'crash' | 'device-lost'): Promise<void>;
}

export interface ModelSlice {
  /** Where the current model came from, to load it again after an engine crash. */
  modelSource: ModelSource | null;
  catalog: CatalogEntry[];
  catalogStatus: CatalogStatus;
  model: ModelSummary | null;
  /** 'ready' while a model is loaded and usable (even after a later load failed: see modelLoadFailed). */
  modelStatus: ModelStatus;
  /** The name of the model being loaded, while a load runs. */
  pendingModelName: string | null;
  /** The display name of the last requested model source (catalog name, URL folder, or dropped folder). */
  modelSourceName: string | null;
  /** True when the last load attempt failed (the previous model, if any, is still loaded). */
  modelLoadFailed: boolean;
  loadProgress: LoadProgress | null;
  configuring: boolean;
  loadModel(source: ModelSource, name?: string): Promise<void>;
  loadModelFromUrl(url: string, name?: string): Promise<void>;
  configureModel(options: { targetLayer?: string; preprocessing?: PreprocessingId; resizePolicy?: ResizePolicy }): Promise<void>;
}

export interface ImageSlice {
  image: ImageSummary | null;
  imageName: string | null;
  imageStatus: ImageStatus;
  /** The image as given, kept to decode again when the model, backend or resize policy changes. */
  imageBlob: Blob | null;
  /** An image chosen before any model was ready: sent once one is. */
  pendingImage: { blob: Blob; name: string } | null;
  /** Sets the current image; `queueId`: the exploration-queue item it is (none: an image from elsewhere). */
  setImage(blob: Blob, name: string, queueId?: number): Promise<void>;
  /**
   * Fetches `samples/<file>` (a name, or `folder/name`) and sets it as the image. `modelId`: the catalog
   * model the sample was made for (the shapes scenes); when it is in the catalog and not the current model,
   * that model is loaded first.
   */
  loadSample(file: string, title?: string, modelId?: string): Promise<void>;
}

export interface AnalysisSlice {
  result: AnalyzeResult | null;
  /** The request that produced `result`. */
  resultRequest: AnalyzeRequest | null;
  analysisStatus: AnalysisStatus;
  /** Batches done of the running analysis' current method (long methods such as Score-CAM report it). */
  analyzeProgress: AnalyzeProgress | null;
  /** 'auto' = the worker's default set; otherwise the user's choice. */
  selectedLabels: number[] | 'auto';
  /** The request being computed while `analysisStatus` is 'busy' (null otherwise). */
  runningRequest: AnalyzeRequest | null;
  /** The rule of the detected set C_x; null = the default of the model's head (see `effectiveDetection`). */
  detection: DetectionRule | null;
  /** Per-method parameters (Score-CAM, Ablation-CAM, SmoothGrad, Integrated Gradients). */
  methodOptions: MethodOptions;
  /** Meta-methods applied to every chosen method: test-time augmentation and noise smoothing (off by default). */
  meta: MetaSettings;
  setMeta(patch: Partial<MetaSettings>): Promise<void>;
  analyze(): Promise<void>;
  /** Stops the running analysis (the previous results stay). */
  cancelAnalysis(): Promise<void>;
  /** Adds or removes a label from the explained set (starting from what is explained now). */
  toggleLabel(label: number): Promise<void>;
  setSelectedLabels(labels: number[] | 'auto'): Promise<void>;
  /**
   * Changes the detected-set rule (null: the head's default) and re-analyses. With labels left on 'auto'
   * the explained labels follow the new detected set; labels chosen by hand are kept (MinMax still
   * contrasts with the new detected set).
   */
  setDetection(rule: DetectionRule | null): Promise<void>;
  /** Changes method options; re-analyses only when a chosen method uses the changed family. */
  setMethodOptions(patch: MethodOptionsPatch): Promise<void>;
  resetMethodOptions(): Promise<void>;
}

/** The studio's modes, one per use: exploring images, a classroom walkthrough, building figures. */
export const STUDIO_MODES = ['explore', 'classroom', 'figure'] as const;
export type StudioMode = (typeof STUDIO_MODES)[number];

export interface ViewSlice {
  mode: StudioMode;
  setMode(mode: StudioMode): void;
  colormap: ColormapId;
  opacity: number;
  methods: MethodId[];
  topK: number;
  /** The heatmap grid: false = rows are labels, columns methods; true = rows are methods. */
  gridTransposed: boolean;
  /**
   * An image dropped while an analysis runs: 'supersede' (default) stops the analysis and explains the new
   * image; 'queue' lets the analysis finish, the new images waiting in the filmstrip, then shows the first.
   */
  whileBusy: WhileBusy;
  setWhileBusy(choice: WhileBusy): void;
  setColormap(colormap: ColormapId): void;
  setGridTransposed(transposed: boolean): void;
  setOpacity(opacity: number): void;
  toggleMethod(method: MethodId): Promise<void>;
  setMethods(methods: MethodId[]): Promise<void>;
  setTopK(topK: number): Promise<void>;
}

export interface ErrorSlice {
  lastError: UiError | null;
  /** Notes from startup (e.g. an unknown ?backend value). */
  notices: string[];
  dismissError(): void;
  reportError(error: unknown, context: string): void;
}

export type MetricsStatus = 'idle' | 'busy' | 'done' | 'error';

/** Faithfulness metrics of the current image (issue #5), computed on demand in the worker. */
export interface MetricsSlice {
  metrics: MetricsResult | null;
  /** What the metrics were computed for: they are stale once the image or the model changes. */
  metricsFor: { image: ImageSummary; loadId: number; methods: MethodId[] } | null;
  metricsStatus: MetricsStatus;
  metricsProgress: MetricsProgress | null;
  /** The method whose heatmaps are emphasised (hovering its bar in the metrics chart); null: none. */
  highlightedMethod: string | null;
  setHighlightedMethod(method: string | null): void;
  /** Scores the chosen methods on the detected set of the current image (masked forward passes, curves). */
  computeMetrics(): Promise<void>;
  cancelMetrics(): Promise<void>;
}

/** Steps of the deletion / insertion curves the studio computes. */
export const CURVE_STEPS = 16;

export type StudioState = EngineSlice & ModelSlice & ImageSlice & AnalysisSlice & ViewSlice & ErrorSlice & MetricsSlice & BatchSlice & FigureSlice & ClassroomSlice & InspectorSlice & QueueSlice;
export type StudioStore = StoreApi<StudioState>;

/** Request sequence numbers shared by the slices: the latest of each kind wins. */
interface Sequences {
  backend: number;
  load: number;
  configure: number;
  image: number;
  analyze: number;
  metrics: number;
  batch: number;
}

/** The methods in registry order (cam before gradcam) whatever the click order, without repeats; unknown ids last. */
export function orderMethods(methods: readonly MethodId[]): MethodId[] {
  const order: readonly string[] = METHOD_IDS;
  const rank = (id: string): number => (order.includes(id) ? order.indexOf(id) : order.length);
  return [...new Set(methods)].sort((a, b) => rank(a) - rank(b));
}

/** An analysis request for the current settings, without the display size (the image's own). */
export function analyzeRequestBase(state: StudioState, labels: AnalyzeRequest['labels']): Omit<AnalyzeRequest, 'displaySize'> {
  const options = optionsForRequest(state.methodOptions);
  return {
    labels,
    methods: effectiveMethods(state),
    topK: state.topK,
    ...(state.detection === null ? {} : { detection: state.detection }),
    ...(options === undefined ? {} : { options }),
    ...metaForRequest(state.meta),
  };
}

/** Methods chosen by the user that the current model supports, in registry order. */
export function effectiveMethods(state: Pick<StudioState, 'methods' | 'model'>): MethodId[] {
  const model = state.model;
  if (!model) return [...state.methods];
  return state.methods.filter((id) => model.methods.some((m) => m.id === id && m.available));
}

/** The detected-set rule in force: the user's, else the default of the model's head. */
export function effectiveDetection(state: Pick<StudioState, 'detection' | 'model'>): DetectionRule {
  return state.detection ?? defaultDetectionRule(state.model?.headActivation ?? 'softmax');
}

/** Which option family each method reads. */
const OPTION_FAMILY_METHODS: Readonly<Record<keyof MethodOptions, string>> = {
  scorecam: 'scorecam',
  ablation: 'ablationcam',
  smoothgrad: 'smoothgrad',
  integratedGradients: 'integrated-gradients',
};

/** Labels shown as explained (the checkbox state of each prediction row). */
export function explainedLabels(state: Pick<StudioState, 'selectedLabels' | 'result'>): readonly number[] {
  if (state.selectedLabels !== 'auto') return state.selectedLabels;
  return state.result ? state.result.labels : NO_LABELS;
}

/** One shared empty list, so selectors return a stable value (React's useSyncExternalStore needs that). */
const NO_LABELS: readonly number[] = Object.freeze([]);

function closeBitmap(bitmap: ImageBitmap | undefined | null): void {
  if (!bitmap) return;
  try {
    if (typeof bitmap.close === 'function') bitmap.close();
  } catch {
    // already closed or not a real bitmap: nothing to release
  }
}

type Slice<T> = StateCreator<StudioState, [], [], T>;

function errorSlice(): Slice<ErrorSlice> {
  return (set) => ({
    lastError: null,
    notices: [],
    dismissError: () => set({ lastError: null }),
    reportError: (error, context) => {
      if (isCancelled(error)) return;
      set({ lastError: toUiError(error, context) });
    },
  });
}

function viewSlice(): Slice<ViewSlice> {
  return (set, get) => ({
    mode: 'explore',
    setMode: (mode) => set({ mode }),
    colormap: DEFAULT_COLORMAP,
    opacity: DEFAULT_OPACITY,
    methods: [...DEFAULT_METHODS],
    topK: DEFAULT_TOP_K,
    gridTransposed: false,
    whileBusy: 'supersede',
    setWhileBusy: (choice) => set({ whileBusy: choice }),
    setColormap: (colormap) => set({ colormap }),
    setGridTransposed: (transposed) => set({ gridTransposed: transposed }),
    setOpacity: (opacity) => set({ opacity: Number.isFinite(opacity) ? Math.max(0, Math.min(1, opacity)) : DEFAULT_OPACITY }),
    toggleMethod: async (method) => {
      const methods = get().methods;
      const next = methods.includes(method) ? methods.filter((m) => m !== method) : [...methods, method];
      await get().setMethods(next);
    },
    setMethods: async (methods) => {
      set({ methods: orderMethods(methods) });
      await get().analyze();
    },
    setTopK: async (topK) => {
      const k = Math.max(1, Math.min(100, Math.round(Number.isFinite(topK) ? topK : DEFAULT_TOP_K)));
      if (k === get().topK) return;
      set({ topK: k });
      await get().analyze();
    },
  });
}

function analysisSlice(deps: StudioDeps, seq: Sequences): Slice<AnalysisSlice> {
  return (set, get) => ({
    result: null,
    resultRequest: null,
    analysisStatus: 'idle',
    analyzeProgress: null,
    selectedLabels: 'auto',
    runningRequest: null,
    detection: null,
    methodOptions: DEFAULT_METHOD_OPTIONS,
    meta: DEFAULT_META_SETTINGS,
    setMeta: async (patch) => {
      const next = { ...get().meta, ...patch };
      if (JSON.stringify(next) === JSON.stringify(get().meta)) return;
      set({ meta: next });
      await get().analyze();
    },
    analyze: async () => {
      const state = get();
      const { model, image } = state;
      if (!model || !image) return;
      const id = ++seq.analyze;
      const methods = effectiveMethods(state);
      const labels = state.selectedLabels === 'auto' ? 'auto' : [...state.selectedLabels];
      const request: AnalyzeRequest = {
        ...analyzeRequestBase(state, labels),
        displaySize: [Math.max(1, image.display.height), Math.max(1, image.display.width)],
      };
      // An image of the exploration queue already explained in the background with these settings: instant.
      const queued = queuedResult(state, request);
      if (queued !== null) {
        set({ result: queued, resultRequest: request, analysisStatus: 'done', analyzeProgress: null, runningRequest: null });
        void get().processQueue();
        return;
      }
      // Nothing to explain: keep the predictions we have, drop the maps, no round trip.
      const previous = state.result;
      if (
        (methods.length === 0 || (labels !== 'auto' && labels.length === 0)) &&
        previous &&
        state.resultRequest?.topK === state.topK &&
        sameRule(state.resultRequest.detection, request.detection) &&
        previous.loadId === model.loadId
      ) {
        set({
          result: { ...previous, labels: labels === 'auto' ? previous.labels : [], maps: [] },
          resultRequest: request,
          analysisStatus: 'done',
          runningRequest: null,
        });
        return;
      }
      set({ analysisStatus: 'busy', analyzeProgress: null, runningRequest: request });
      try {
        const result = await deps.engine.analyze(request, (progress) => {
          if (id === seq.analyze) set({ analyzeProgress: progress });
        });
        if (id !== seq.analyze) return;
        const current = get();
        if (!current.model || result.loadId !== current.model.loadId) {
          // Computed for a model that is no longer the current one: a newer load re-runs the analysis.
          set({ analysisStatus: current.result ? 'done' : 'idle', analyzeProgress: null, runningRequest: null });
          return;
        }
        set({ result, resultRequest: request, analysisStatus: 'done', analyzeProgress: null, runningRequest: null });
        rememberQueuedResult(get, set, request, result);
      } catch (error) {
        if (id !== seq.analyze) return;
        if (isCancelled(error)) {
          set({ analysisStatus: get().result ? 'done' : 'idle', analyzeProgress: null, runningRequest: null });
          return;
        }
        set({ analysisStatus: 'error', analyzeProgress: null, runningRequest: null, lastError: toUiError(error, 'Computing heatmaps') });
      } finally {
        if (id === seq.analyze) void get().processQueue();
      }
    },
    cancelAnalysis: async () => {
      if (get().analysisStatus !== 'busy') return;
      seq.analyze++; // whatever the running request returns is stale now
      set({ analysisStatus: get().result ? 'done' : 'idle', analyzeProgress: null, runningRequest: null });
      try {
        await deps.engine.cancel();
      } catch (error) {
        if (!isCancelled(error)) set({ lastError: toUiError(error, 'Cancelling the analysis') });
      }
    },
    toggleLabel: async (label) => {
      const current = explainedLabels(get());
      const next = current.includes(label) ? current.filter((l) => l !== label) : [...current, label];
      await get().setSelectedLabels(next);
    },
    setSelectedLabels: async (labels) => {
      if (labels === 'auto') {
        set({ selectedLabels: 'auto' });
      } else {
        // Order the explained labels as the predictions list orders them; unlisted labels go last.
        const order = get().result?.predictions.map((p) => p.label) ?? [];
        const rank = (l: number): number => {
          const i = order.indexOf(l);
          return i < 0 ? order.length + l : i;
        };
        set({ selectedLabels: [...new Set(labels)].sort((a, b) => rank(a) - rank(b)) });
      }
      await get().analyze();
    },
    setDetection: async (rule) => {
      const state = get();
      if (sameRule(state.detection, rule)) return;
      // Choosing exactly the head's default is the same as following it (it then tracks model changes).
      const next = rule !== null && sameRule(rule, defaultDetectionRule(state.model?.headActivation ?? 'softmax')) ? null : rule;
      if (sameRule(state.detection, next)) return;
      set({ detection: next === null ? null : structuredCopy(next) });
      await get().analyze();
    },
    setMethodOptions: async (patch) => {
      const state = get();
      const next = mergeMethodOptions(state.methodOptions, patch);
      const changed = (Object.keys(OPTION_FAMILY_METHODS) as (keyof MethodOptions)[]).filter(
        (family) => JSON.stringify(next[family]) !== JSON.stringify(state.methodOptions[family]),
      );
      if (changed.length === 0) return;
      set({ methodOptions: next });
      const chosen: readonly string[] = effectiveMethods(get());
      if (changed.some((family) => chosen.includes(OPTION_FAMILY_METHODS[family]))) await get().analyze();
    },
    resetMethodOptions: async () => {
      await get().setMethodOptions(DEFAULT_METHOD_OPTIONS);
    },
  });
}

function structuredCopy(rule: DetectionRule): DetectionRule {
  return rule.kind === 'ground-truth' ? { kind: rule.kind, labels: [...rule.labels] } : { ...rule };
}

function metricsSlice(deps: StudioDeps, seq: Sequences): Slice<MetricsSlice> {
  return (set, get) => ({
    metrics: null,
    metricsFor: null,
    metricsStatus: 'idle',
    metricsProgress: null,
    highlightedMethod: null,
    setHighlightedMethod: (method) => set({ highlightedMethod: method }),
    computeMetrics: async () => {
      const state = get();
      const { model, image } = state;
      if (!model || !image) return;
      const methods = effectiveMethods(state);
      if (methods.length === 0) return;
      const id = ++seq.metrics;
      const options = optionsForRequest(state.methodOptions);
      set({ metricsStatus: 'busy', metricsProgress: null });
      try {
        const metrics = await deps.engine.evaluateMetrics({
          methods,
          curveSteps: CURVE_STEPS,
          ...(state.detection === null ? {} : { detection: state.detection }),
          ...(options === undefined ? {} : { options }),
        }, (progress) => {
          if (id === seq.metrics) set({ metricsProgress: progress });
        });
        if (id !== seq.metrics) return;
        set({ metrics, metricsFor: { image, loadId: model.loadId, methods }, metricsStatus: 'done', metricsProgress: null });
      } catch (error) {
        if (id !== seq.metrics) return;
        if (isCancelled(error)) {
          set({ metricsStatus: get().metrics ? 'done' : 'idle', metricsProgress: null });
          return;
        }
        set({ metricsStatus: 'error', metricsProgress: null, lastError: toUiError(error, 'Computing faithfulness metrics') });
      }
    },
    cancelMetrics: async () => {
      if (get().metricsStatus !== 'busy') return;
      seq.metrics++;
      set({ metricsStatus: get().metrics ? 'done' : 'idle', metricsProgress: null });
      try {
        await deps.engine.cancel();
      } catch (error) {
        if (!isCancelled(error)) set({ lastError: toUiError(error, 'Cancelling the metrics') });
      }
    },
  });
}

function imageSlice(deps: StudioDeps, seq: Sequences): Slice<ImageSlice> {
  return (set, get) => ({
    image: null,
    imageName: null,
    imageStatus: 'idle',
    imageBlob: null,
    pendingImage: null,
    setImage: async (blob, name, queueId) => {
      set({ queueCurrent: queueId ?? null });
      await decodeImage(deps, seq, set, get, blob, name, { keepSelection: false });
    },
    loadSample: async (file, title, modelId) => {
      if (modelId !== undefined) {
        const entry = get().catalog.find((candidate) => candidate.id === modelId);
        const current = get().model;
        if (entry !== undefined && (current === null || resolveUrl(entry.url, deps.baseUrl) !== current.source)) {
          await get().loadModelFromUrl(entry.url, entry.name);
        }
      }
      const url = resolveUrl(`samples/${file.split('/').map(encodeURIComponent).join('/')}`, deps.baseUrl);
      let blob: Blob;
      try {
        const response = await deps.fetch(url);
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
        blob = await response.blob();
      } catch (error) {
        set({ lastError: { code: 'sample-fetch-failed', message: `Could not fetch the sample image ${file}: ${toUiError(error, '').message}`, context: 'Loading a sample' } });
        return;
      }
      await get().setImage(blob, title ?? file);
    },
  });
}

type SetState = StoreApi<StudioState>['setState'];
type GetState = StoreApi<StudioState>['getState'];

/** Sends an image to the engine; on success it replaces the image, clears stale results and analyses. */
async function decodeImage(
  deps: StudioDeps,
  seq: Sequences,
  set: SetState,
  get: GetState,
  blob: Blob,
  name: string,
  options: { keepSelection: boolean },
): Promise<void> {
  const id = ++seq.image;
  seq.analyze++; // results of the previous image in flight are stale now
  if (!get().model) {
    // No model yet (still loading): remember the image, the load sends it.
    set({ pendingImage: { blob, name }, imageName: name, imageStatus: 'waiting-for-model' });
    return;
  }
  const before = get();
  set({ imageStatus: 'loading', analysisStatus: 'busy', analyzeProgress: null, runningRequest: null });
  let summary: ImageSummary;
  try {
    summary = await deps.engine.setImage(blob);
  } catch (error) {
    if (id !== seq.image) return;
    const now = get();
    set({
      imageStatus: now.image ? 'ready' : 'error',
      imageName: now.image ? before.imageName : name,
      analysisStatus: now.result ? 'done' : 'idle',
      pendingImage: null,
    });
    if (!isCancelled(error)) set({ lastError: toUiError(error, `Reading the image ${name}`) });
    return;
  }
  if (id !== seq.image) {
    closeBitmap(summary.display);
    return;
  }
  const old = get().image;
  set({
    image: summary,
    imageName: name,
    imageBlob: blob,
    imageStatus: 'ready',
    pendingImage: null,
    result: null,
    resultRequest: null,
    ...(options.keepSelection ? {} : { selectedLabels: 'auto' as const }),
  });
  if (old && old !== summary) closeBitmap(old.display);
  await get().analyze();
}

/** Decodes the current (or pending) image again, e.g. after a new model, backend or resize policy. */
async function refreshImage(deps: StudioDeps, seq: Sequences, set: SetState, get: GetState, keepSelection: boolean): Promise<void> {
  const state = get();
  const source = state.pendingImage ?? (state.imageBlob ? { blob: state.imageBlob, name: state.imageName ?? 'image' } : null);
  if (!source) return;
  await decodeImage(deps, seq, set, get, source.blob, source.name, { keepSelection });
}

function modelSlice(deps: StudioDeps, seq: Sequences): Slice<ModelSlice> {
  /** The newest summary that loaded successfully but was superseded: adopted if its successor fails. */
  let supersededSuccess: { id: number; summary: ModelSummary } | null = null;

  return (set, get) => ({
    modelSource: null,
    catalog: [],
    catalogStatus: 'idle',
    model: null,
    modelStatus: 'idle',
    pendingModelName: null,
    modelSourceName: null,
    modelLoadFailed: false,
    loadProgress: null,
    configuring: false,
    loadModel: async (source, name) => {
      const id = ++seq.load;
      const displayName = name ?? (source.kind === 'url' ? nameFromUrl(source.url) : 'local model');
      set({ modelStatus: 'loading', pendingModelName: displayName, loadProgress: null, modelLoadFailed: false });
      let summary: ModelSummary;
      try {
        summary = await deps.engine.loadModel(source, (progress) => {
          if (id === seq.load) set({ loadProgress: progress });
        });
      } catch (error) {
        if (id !== seq.load) return;
        let current = get().model;
        if (supersededSuccess && supersededSuccess.summary.loadId > (current?.loadId ?? -Infinity)) {
          // A superseded load finished after the current model: the worker holds that one now.
          current = supersededSuccess.summary;
          set({ model: current });
        }
        supersededSuccess = null;
        set({
          modelStatus: current ? 'ready' : 'error',
          pendingModelName: null,
          loadProgress: null,
          modelLoadFailed: true,
        });
        if (!isCancelled(error)) set({ lastError: toUiError(error, `Loading the model ${displayName}`) });
        return;
      }
      if (id !== seq.load) {
        if (!supersededSuccess || summary.loadId > supersededSuccess.summary.loadId) supersededSuccess = { id, summary };
        return;
      }
      supersededSuccess = null;
      set({
        model: summary,
        modelStatus: 'ready',
        pendingModelName: null,
        modelSourceName: displayName,
        modelSource: source,
        loadProgress: null,
        modelLoadFailed: false,
        selectedLabels: 'auto',
        // A rule chosen for the previous model (its classes, its head) does not carry over.
        detection: null,
        result: null,
        resultRequest: null,
        analysisStatus: 'idle',
      });
      await refreshImage(deps, seq, set, get, false);
    },
    loadModelFromUrl: async (url, name) => {
      const trimmed = url.trim();
      if (trimmed === '') {
        set({ lastError: { code: 'model-fetch-failed', message: 'Enter the URL of a TF.js model.json.', context: 'Loading a model' } });
        return;
      }
      await get().loadModel({ kind: 'url', url: resolveUrl(trimmed, deps.baseUrl) }, name ?? nameFromUrl(trimmed));
    },
    configureModel: async (options) => {
      if (!get().model) return;
      const id = ++seq.configure;
      set({ configuring: true });
      let summary: ModelSummary;
      try {
        summary = await deps.engine.configureModel(options);
      } catch (error) {
        if (id !== seq.configure) return;
        set({ configuring: false });
        if (!isCancelled(error)) set({ lastError: toUiError(error, 'Configuring the model') });
        return;
      }
      if (id !== seq.configure) return;
      set({ model: summary, configuring: false });
      if (options.resizePolicy !== undefined) await refreshImage(deps, seq, set, get, true);
      else if (options.targetLayer !== undefined || options.preprocessing !== undefined) await get().analyze();
    },
  });
}

/** Two WebGPU device losses within this window switch the engine to wasm. */
const DEVICE_LOSS_WINDOW_MS = 10 * 60_000;

function engineSlice(deps: StudioDeps, seq: Sequences, lifecycle: Lifecycle): Slice<EngineSlice> {
  /** When WebGPU lost its device (ms since the epoch), within DEVICE_LOSS_WINDOW_MS. */
  const deviceLosses: number[] = [];
  return (set, get) => ({
    backend: null,
    backendStatus: 'idle',
    requestedBackend: 'auto',
    start: async () => {
      void get().findInterruptedBatch(); // a folder evaluation a closed tab interrupted is offered for resuming
      const params = parseStartupParams(deps.search);
      // Settings: the last session's (storage), overridden by the URL's (a shared link).
      const fromUrl = settingsFromSearch(deps.search);
      const settings = { ...parseStoredSettings(readStorage(deps.storage)), ...fromUrl.settings };
      set({
        requestedBackend: params.backend, backendStatus: 'starting', catalogStatus: 'loading', notices: [...params.warnings, ...fromUrl.warnings], modelStatus: 'loading',
        ...(settings.mode === undefined ? {} : { mode: settings.mode }),
        ...(settings.methods === undefined ? {} : { methods: orderMethods(settings.methods) }),
        ...(settings.colormap === undefined ? {} : { colormap: settings.colormap }),
        ...(settings.opacity === undefined ? {} : { opacity: settings.opacity }),
        ...(settings.topK === undefined ? {} : { topK: settings.topK }),
        ...(settings.gridTransposed === undefined ? {} : { gridTransposed: settings.gridTransposed }),
        ...(settings.whileBusy === undefined ? {} : { whileBusy: settings.whileBusy }),
      });
      lifecycle.settingsApplied = true;
      const catalogPromise = fetchCatalog(deps).then(
        (catalog) => {
          set({ catalog, catalogStatus: 'ready' });
          return catalog;
        },
        (error: unknown) => {
          set({ catalogStatus: 'error' });
          return toUiError(error, 'Reading the model catalog');
        },
      );
      const id = ++seq.backend;
      let report: BackendReport | null = null;
      try {
        report = await deps.engine.init(params.backend);
      } catch (error) {
        set({ lastError: toUiError(error, `Starting the ${params.backend} backend`) });
        if (params.backend !== 'auto') {
          try {
            report = await deps.engine.init('auto');
            set({ requestedBackend: 'auto' });
          } catch (fallbackError) {
            set({ lastError: toUiError(fallbackError, 'Starting a backend') });
          }
        }
      }
      if (id === seq.backend) set({ backend: report, backendStatus: report ? 'ready' : 'error' });
      const catalog = await catalogPromise;
      if (!report) {
        set({ modelStatus: 'error' });
        return;
      }
      let url: string | null = params.modelUrl ?? settings.model ?? null;
      let name: string | undefined = url === null ? undefined : get().catalog.find((entry) => resolveUrl(entry.url, deps.baseUrl) === resolveUrl(url!, deps.baseUrl))?.name;
      if (url === null) {
        if (!Array.isArray(catalog)) {
          set({
            modelStatus: 'error',
            lastError: { code: 'catalog-unavailable', message: `Could not read the model catalog (${catalog.message}). Run \`npm run setup\` to download the bundled models, then reload this page.`, context: 'Starting' },
          });
          return;
        }
        const first = catalog[0];
        if (!first) {
          set({
            modelStatus: 'error',
            lastError: { code: 'catalog-unavailable', message: 'The model catalog lists no models. Run `npm run setup` to download the bundled models, then reload this page.', context: 'Starting' },
          });
          return;
        }
        url = first.url;
        name = first.name;
      }
      if (get().model || seq.load > 0) return; // the user already picked a model meanwhile
      await get().loadModel({ kind: 'url', url: resolveUrl(url, deps.baseUrl) }, name ?? nameFromUrl(url));
      // A model load resets the detected-set rule; the saved or linked one applies to the first model.
      if (settings.detection !== undefined && get().model !== null && get().image === null) set({ detection: settings.detection });
    },
    recoverEngine: async (reason, cause = 'crash') => {
      const before = get();
      seq.analyze++; // whatever the dead worker was computing is gone
      const now = Date.now();
      if (cause === 'device-lost') deviceLosses.push(now);
      while (deviceLosses.length > 0 && now - deviceLosses[0]! > DEVICE_LOSS_WINDOW_MS) deviceLosses.shift();
      const fallBack = cause === 'device-lost' && deviceLosses.length >= 2;
      const requested: BackendChoice = fallBack ? 'wasm' : before.requestedBackend;
      set({
        notices: [
          ...before.notices,
          fallBack
            ? `${reason} WebGPU lost its device ${deviceLosses.length} times in ten minutes, so the engine was restarted on wasm (the CPU); the model and the image are loaded again. Choose WebGPU under Backend to try it again.`
            : `${reason} The engine was restarted; the model and the image are loaded again.`,
        ],
        backend: null, backendStatus: 'starting', requestedBackend: requested,
        analysisStatus: before.result ? 'done' : 'idle', analyzeProgress: null, runningRequest: null,
        ...(before.metricsStatus === 'busy' ? { metricsStatus: before.metrics ? 'done' : 'idle', metricsProgress: null } : {}),
      });
      let report: BackendReport | null = null;
      for (const choice of requested === 'auto' ? (['auto'] as const) : ([requested, 'auto'] as const)) {
        try {
          report = await deps.engine.init(choice);
          break;
        } catch (error) {
          set({ lastError: toUiError(error, `Starting the ${choice} backend again`) });
        }
      }
      set({ backend: report, backendStatus: report ? 'ready' : 'error' });
      if (get().lastError?.code === 'engine-crashed') set({ lastError: null }); // the crash is the notice above
      // Results of the dead worker stay readable, but the new one has no image, forward pass or jobs: the
      // queue's images are explained again, and figure and walkthrough numbers recomputed when next needed.
      set({
        queue: get().queue.map(({ id, name, blob }) => ({ id, name, blob, status: 'waiting' as const })),
        walkthroughKey: null,
      });
      if (report === null || before.modelSource === null) return;
      await get().loadModel(before.modelSource, before.modelSourceName ?? undefined);
    },
    setBackend: async (choice) => {
      const id = ++seq.backend;
      const previous = get().requestedBackend;
      set({ backendStatus: 'switching', requestedBackend: choice });
      let report: BackendReport;
      try {
        report = await deps.engine.setBackend(choice);
      } catch (error) {
        if (id !== seq.backend) return;
        set({ backendStatus: get().backend ? 'ready' : 'error', requestedBackend: previous });
        if (!isCancelled(error)) set({ lastError: toUiError(error, `Switching to the ${choice} backend`) });
        return;
      }
      if (id !== seq.backend) return;
      set({ backend: report, backendStatus: 'ready' });
      if (!get().model) return;
      // The worker reloaded the model on the new backend: refresh its summary, then the image and results.
      const configureId = ++seq.configure;
      set({ configuring: true });
      try {
        const summary = await deps.engine.configureModel({});
        if (configureId !== seq.configure || id !== seq.backend) return;
        set({ model: summary, configuring: false });
      } catch (error) {
        if (configureId !== seq.configure || id !== seq.backend) return;
        set({ configuring: false });
        // The worker could not reload the model on the new backend: it no longer holds one.
        if ((error as { name?: unknown } | null)?.name === 'no-model') set({ model: null, modelStatus: 'error', result: null, resultRequest: null, analysisStatus: 'idle' });
        if (!isCancelled(error)) set({ lastError: toUiError(error, 'Reloading the model on the new backend') });
        return;
      }
      await refreshImage(deps, seq, set, get, true);
    },
  });
}

async function fetchCatalog(deps: StudioDeps): Promise<CatalogEntry[]> {
  const response = await deps.fetch(resolveUrl(CATALOG_PATH, deps.baseUrl));
  if (!response.ok) throw new Error(`${CATALOG_PATH}: HTTP ${response.status}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new Error(`${CATALOG_PATH} is not JSON`);
  }
  return parseCatalog(json);
}

/** Builds the store. Nothing runs until `start()` is called. */
/** Per store: true once start() has applied the stored settings; only then are changes written back (not the defaults). */
interface Lifecycle {
  settingsApplied: boolean;
}

function readStorage(storage: SettingsStorage | undefined): string | null {
  try {
    return storage?.getItem(SETTINGS_STORAGE_KEY) ?? null;
  } catch {
    return null; // storage disabled (private mode, blocked cookies): nothing persists
  }
}

export function createStudioStore(deps: StudioDeps): StudioStore {
  const seq: Sequences = { backend: 0, load: 0, configure: 0, image: 0, analyze: 0, metrics: 0, batch: 0 };
  const lifecycle: Lifecycle = { settingsApplied: false };
  const store = createStore<StudioState>()((...a) => ({
    ...engineSlice(deps, seq, lifecycle)(...a),
    ...modelSlice(deps, seq)(...a),
    ...imageSlice(deps, seq)(...a),
    ...analysisSlice(deps, seq)(...a),
    ...viewSlice()(...a),
    ...errorSlice()(...a),
    ...metricsSlice(deps, seq)(...a),
    ...batchSlice(deps, seq)(...a),
    ...figureSlice(deps)(...a),
    ...classroomSlice(deps)(...a),
    ...inspectorSlice(deps)(...a),
    ...queueSlice(deps)(...a),
  }));
  deps.onEngineRestart?.((reason, cause) => void store.getState().recoverEngine(reason, cause));
  const storage = deps.storage;
  if (storage !== undefined) {
    let written = '';
    store.subscribe((state) => {
      if (!lifecycle.settingsApplied) return;
      const text = JSON.stringify(settingsOf(state, deps.baseUrl));
      if (text === written) return;
      written = text;
      try {
        storage.setItem(SETTINGS_STORAGE_KEY, text);
      } catch {
        // storage full or disabled: settings simply do not persist
      }
    });
  }
  return store;
}
