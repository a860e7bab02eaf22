/**
 * The studio store's shape, in one module: the combined state, every slice's interface and the dependencies
 * the store is built with. The slices (src/state/slices/) implement
 * these; selectors (selectors.ts) read them; store.ts composes. Types only (the constants they come from
 * are in constants.ts).
 */
import type { StateCreator, StoreApi } from 'zustand/vanilla';
import type { ColormapId } from '../shared/colormap';
import type { DetectionRule } from '../shared/detection';
import type { ImageEvaluation } from '../shared/metrics/report';
import type { MethodOptionsPatch } from '../shared/options';
import type {
  AnalyzeProgress,
  AnalyzeRequest,
  AnalyzeResult,
  BackendChoice,
  BackendReport,
  EngineApi,
  FigureRowResult,
  ImageSummary,
  LoadProgress,
  MethodId,
  MethodOptions,
  MetricsProgress,
  MetricsResult,
  ModelConfiguration,
  ModelSource,
  ModelSummary,
  WalkthroughData,
} from '../shared/protocol';
import type { BatchFile } from './batch';
import type { BatchJournal } from './batch-journal';
import type { UiError } from './errors';
import type { FigureSpec } from '../figure/spec';
import type { CatalogEntry } from './startup';
import type { MetaSettings, StudioMode, WalkthroughMethod, WhileBusy } from './constants';

// ---- what the store is built with ----

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

// ---- statuses ----

export type BackendStatus = 'idle' | 'starting' | 'ready' | 'switching' | 'error';
export type ModelStatus = 'idle' | 'loading' | 'ready' | 'error';
export type ImageStatus = 'idle' | 'waiting-for-model' | 'loading' | 'ready' | 'error';
export type AnalysisStatus = 'idle' | 'busy' | 'done' | 'error';
export type CatalogStatus = 'idle' | 'loading' | 'ready' | 'error';

// ---- the slices ----

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
  configureModel(options: ModelConfiguration): Promise<void>;
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
  /**
   * Loads a sample image; with `modelIds` (catalog ids), first loads the first of those models unless the
   * current model is one of them.
   */
  loadSample(file: string, title?: string, modelIds?: readonly string[]): Promise<void>;
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
  /** Removes one notice (its Dismiss button). */
  dismissNotice(notice: string): void;
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

export interface ClassroomSlice {
  classroomStep: number;
  classroomMethod: WalkthroughMethod;
  /** The explained label u (null: the top prediction). */
  classroomLabel: number | null;
  /** The contrast label v (null: the next prediction after u). */
  classroomContrast: number | null;
  walkthrough: WalkthroughData | null;
  walkthroughStatus: 'idle' | 'busy' | 'done' | 'error';
  /** The image and model the walkthrough was computed for. */
  walkthroughKey: string | null;
  setClassroomStep(step: number): void;
  stepClassroom(delta: 1 | -1): void;
  cycleClassroomMethod(): void;
  /** Moves u (or v) through the top predictions. */
  cycleClassroomLabel(which: 'label' | 'contrast', delta: 1 | -1): void;
  loadWalkthrough(): Promise<void>;
}

export interface InspectorSlice {
  /** The inspected label; null: closed. */
  inspectorLabel: number | null;
  inspectorData: WalkthroughData | null;
  inspectorStatus: 'idle' | 'busy' | 'done' | 'error';
  /** The channel whose map is shown over the image. */
  inspectorChannel: number | null;
  inspect(label: number | null): Promise<void>;
  selectInspectorChannel(channel: number | null): void;
}

export interface FigureImage {
  name: string;
  blob: Blob;
  /** Studio-relative path of a bundled sample (kept in the saved settings, so the CLI finds it). */
  src?: string;
}

export type FigureStatus = 'idle' | 'busy' | 'done' | 'cancelled';

export interface FigureSlice {
  figureSpec: FigureSpec;
  figureImages: FigureImage[];
  /** Explained rows by image name, each for the cells of `figureCellsKey` at the time. */
  figureRows: Record<string, { key: string; row: FigureRowResult }>;
  figureFailures: Record<string, string>;
  figureStatus: FigureStatus;
  figureProgress: { done: number; total: number } | null;
  /** Images named by loaded settings that are not here yet (the user adds them by file). */
  figureMissing: string[];
  setFigureSpec(patch: Partial<FigureSpec>): void;
  addFigureImages(images: FigureImage[]): void;
  /** Fetches a bundled sample (`samples/<file>`) into the figure, as `name` (default: its file name). */
  addFigureSample(file: string, name?: string): Promise<void>;
  removeFigureImage(name: string): void;
  moveFigureImage(name: string, delta: -1 | 1): void;
  /** Explains every image whose row is missing or stale; the studio keeps working meanwhile. */
  buildFigure(): Promise<void>;
  cancelFigure(): Promise<void>;
  /** The settings as JSON, with the current model's catalog id. */
  figureSpecJson(): string;
  /** Reads saved settings: loads their model from the catalog when it differs, fetches sample images. */
  loadFigureSpec(text: string): Promise<void>;
}

export interface QueueItem {
  id: number;
  name: string;
  blob: Blob;
  status: 'waiting' | 'running' | 'done' | 'error';
  /** The settings (request without display size) and model load of `result`. */
  key?: string;
  result?: AnalyzeResult;
  /** The request `result` answers (display size included), as the foreground would send it. */
  request?: AnalyzeRequest;
  error?: string;
}

export interface QueueSlice {
  queue: QueueItem[];
  /** The queue item shown (null: the image did not come from the queue). */
  queueCurrent: number | null;
  /** With whileBusy 'queue': the item shown once the running analysis ends (null: none waiting). */
  queueNext: number | null;
  /**
   * Adds images and shows the first of them; the others are explained in the background. While an analysis
   * runs and whileBusy is 'queue', the first is shown only once the analysis ends (queueNext).
   */
  enqueueImages(files: Array<{ name: string; blob: Blob }>): Promise<void>;
  selectQueued(id: number): Promise<void>;
  removeQueued(id: number): void;
  /** Explains waiting images one by one while the foreground is idle. */
  processQueue(): Promise<void>;
}

export type BatchStatus = 'idle' | 'running' | 'paused' | 'done' | 'cancelled';

/** What the journal holds of a batch that did not finish, as the studio offers it for resuming. */
export interface InterruptedBatch {
  modelName: string;
  done: number;
  failures: number;
  total: number;
  savedAt: number;
}

export interface BatchSlice {
  batchFiles: BatchFile[];
  /** One record per evaluated image, in folder order (kept when paused or cancelled). */
  batchRecords: ImageEvaluation[];
  batchFailures: Array<{ name: string; message: string }>;
  batchStatus: BatchStatus;
  /** The methods of the running batch (fixed when it starts). */
  batchMethods: MethodId[];
  /** The detected-set rule of the running batch (fixed when it starts; a labels file overrides it per image). */
  batchDetection: DetectionRule | null;
  /** Index of the next file to evaluate. */
  batchNext: number;
  /** Running time so far (pauses excluded), for the rate and the time left. */
  batchElapsedMs: number;
  /** A batch found in the journal at start that did not finish (null: none). */
  interruptedBatch: InterruptedBatch | null;
  /** Starts a batch over these files with the chosen methods and detection rule (any earlier batch is dropped). */
  startBatch(files: BatchFile[]): Promise<void>;
  /** Stops after the current image; resumeBatch() goes on from the next one. */
  pauseBatch(): void;
  resumeBatch(): Promise<void>;
  /** Stops now (within the current image's next batch of forward passes); the results so far stay. */
  cancelBatch(): Promise<void>;
  /** Reads the journal (at start): sets `interruptedBatch` when a batch did not finish. */
  findInterruptedBatch(): Promise<void>;
  /** Goes on with the interrupted batch from its journal (the same model must be loaded). */
  resumeInterruptedBatch(): Promise<void>;
  /** Forgets the interrupted batch (the journal is cleared). */
  discardInterruptedBatch(): Promise<void>;
}

export type StudioState = EngineSlice &
  ModelSlice &
  ImageSlice &
  AnalysisSlice &
  ViewSlice &
  ErrorSlice &
  MetricsSlice &
  BatchSlice &
  FigureSlice &
  ClassroomSlice &
  InspectorSlice &
  QueueSlice;

/** The middleware at the store's root: settings persist (see persistence.ts). */
export type StudioMiddlewares = [['zustand/persist', unknown]];

export type StudioStore = StoreApi<StudioState>;

/** A slice of the store: its part of the state and its actions, reading the whole through `get`. */
export type Slice<T> = StateCreator<StudioState, StudioMiddlewares, [], T>;

export type SetState = StoreApi<StudioState>['setState'];
export type GetState = StoreApi<StudioState>['getState'];
