/**
 * The typed contract between the UI thread and the engine worker (exposed with Comlink).
 *
 * Everything here is plain structured-clone data: the UI never sees a tensor, and never reads tensor data
 * synchronously. Errors thrown by the worker arrive as `Error`s whose `name` is a stable
 * {@link StudioErrorCode} (see src/shared/errors.ts) and whose `message` is written for the user.
 *
 * It names the platform's handles (Blob, File, ImageBitmap), which exist in the page and in the worker but
 * not in src/core's ES-only world: tsconfig.core.json leaves this file out, and src/core never imports it.
 */
import * as v from 'valibot';
import { DetectionRuleSchema, type DetectionRule } from './detection';
import { METHOD_IDS, type MethodAvailability, type MethodId } from './methods';
import {
  PREPROCESSING,
  RESIZE_POLICY,
  type HeadActivation,
  type HeadKind,
  type ModelFormat,
  type PreprocessingId,
  type ResizePolicy,
} from './model-metadata';
import { MetaOptionsSchema, MethodOptionsRequestSchema, type MetaOptions, type MethodOptions } from './options';
import { choiceField, integerField, type Schema } from './schema';
import type { ImageEvaluation } from './metrics/report';
import type { WalkthroughData, WalkthroughMap, WalkthroughRequest } from './walkthrough';

export type { WalkthroughData, WalkthroughMap, WalkthroughRequest };

export type { ImageEvaluation };

export type {
  MethodAvailability,
  MethodId,
  HeadActivation,
  HeadKind,
  PreprocessingId,
  ResizePolicy,
  DetectionRule,
  MethodOptions,
  MetaOptions,
};

export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';
export type BackendChoice = BackendName | 'auto';

/** What the engine runs on, and why it chose it. */
export interface BackendReport {
  /** The backend that actually runs (`tf.getBackend()` after initialisation), never an assumption. */
  backend: BackendName;
  requested: BackendChoice;
  /** The WebGPU adapter, when one was found (even if it was not chosen). */
  adapter: GpuAdapterSummary | null;
  /** A sentence for the user: why this backend. */
  reason: string;
}

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** Where a model comes from. Files: model.json, its .bin shards, and optionally metadata.json / a labels file. */
export type ModelSource = { kind: 'url'; url: string } | { kind: 'files'; files: File[] };

export interface LayerChoice {
  name: string;
  /** Output shape without the batch axis, e.g. [7, 7, 2048]. */
  shape: number[];
}

export interface ModelSummary {
  /** Changes on every successful load; results carry it so stale results can be recognised. */
  loadId: number;
  name: string;
  source: string;
  format: ModelFormat;
  /** Input shape without batch: [height, width, channels]. */
  inputShape: [number, number, number];
  numClasses: number;
  /** Class names, index = class (from labels.json / metadata.json, else "class N"). */
  labelNames: string[];
  numParameters: number;
  targetLayer: string;
  targetLayerCandidates: LayerChoice[];
  headKind: HeadKind;
  headActivation: HeadActivation;
  preprocessing: PreprocessingId;
  preprocessingSource: 'metadata' | 'default' | 'user';
  resizePolicy: ResizePolicy;
  labelsSource: string;
  methods: MethodAvailability[];
  /** Notes for the user collected while loading (e.g. "no labels file: classes are named 'class N'"). */
  notes: string[];
}

export interface LoadProgress {
  /** Bytes received so far and in all (total 0 when unknown). */
  loadedBytes: number;
  totalBytes: number;
  stage: 'fetching' | 'building' | 'warming-up';
}

export interface ImageSummary {
  /** The image as decoded, EXIF orientation applied. */
  originalWidth: number;
  originalHeight: number;
  /** The part of the image the model sees, in original pixels. */
  crop: { x: number; y: number; width: number; height: number };
  resizePolicy: ResizePolicy;
  /** A sentence for the user, e.g. "Resized (squashed) from 451x300 to 224x224". */
  policyDescription: string;
  /** `[width, height]` of the file when it was decoded scaled down (longer side over 4096 px). */
  scaledFrom?: [number, number];
  /** The cropped region at display resolution (longest side <= 512 px), for drawing under heatmaps. */
  display: ImageBitmap;
}

export interface Prediction {
  label: number;
  name: string;
  /** Probability under the head's activation (softmax or sigmoid). */
  prob: number;
  /** The pre-activation logit S_c. */
  logit: number;
}

export interface AnalyzeRequest {
  /** Labels to explain; 'auto' = the default set (top-k of a softmax head, p > 0.5 of a sigmoid head). */
  labels: number[] | 'auto';
  methods: MethodId[];
  /** How many predictions to return. */
  topK: number;
  /** Heatmaps are also returned upsampled (bilinear) to this size [height, width] for display. */
  displaySize: [number, number];
  /** The rule for the detected set C_x (default labels and MinMax's contrast); default by head activation. */
  detection?: DetectionRule;
  /** Per-method parameters (Score-CAM variant/batch/channel cap, SmoothGrad, IG). */
  options?: Partial<MethodOptions>;
  /** Meta-methods for every chosen method: test-time augmentation and/or noise smoothing (maps then at input resolution). */
  meta?: MetaOptions;
}

/** Progress of a long analysis: which method, and its batches done of total. */
export interface AnalyzeProgress {
  jobId: number;
  method: MethodId;
  done: number;
  total: number;
}

export interface HeatmapResult {
  method: MethodId;
  label: number;
  /** 'feature': at the target layer's resolution; 'input': at the model input's (saliency methods). */
  resolution: 'feature' | 'input';
  /** Shape [h, w] of `normalized`. */
  shape: [number, number];
  /** ReLU then min-max normalised to [0, 1], row-major, at feature resolution. */
  normalized: Float32Array;
  /** Range of the ReLU-ed map before normalisation. */
  rawMin: number;
  rawMax: number;
  /** `normalized` upsampled bilinearly to `displaySize`, row-major. */
  display: Float32Array;
  displayShape: [number, number];
  /** Extra numbers of the method for this label (e.g. Integrated Gradients' completenessGap). */
  extras: Record<string, number>;
}

export interface AnalyzeResult {
  jobId: number;
  loadId: number;
  backend: BackendName;
  predictions: Prediction[];
  /** The labels actually explained, in order. */
  labels: number[];
  /** The detected set C_x and the rule that made it. */
  detected: number[];
  detectionRule: string;
  maps: HeatmapResult[];
  /** How the maps were made, when worth saying (e.g. Score-CAM's batches shrunk to fit memory). */
  notes: string[];
  timingsMs: { forward: number; total: number; methods: Partial<Record<MethodId, number>> };
  /** True when the forward pass was reused from the previous request on the same image. */
  forwardReused: boolean;
}

/** Faithfulness metrics of the current image (src/core/metrics): the detected set, every chosen method. */
export interface MetricsRequest {
  methods: MethodId[];
  /** The detected set's rule; default: the head's (sigmoid > 0.5, or top 3). */
  detection?: DetectionRule;
  /** Steps of the deletion / insertion curves (0: none). */
  curveSteps: number;
  /** Masked inputs per forward batch (default 16). */
  batchSize?: number;
  options?: Partial<MethodOptions>;
}

export interface MetricsProgress {
  jobId: number;
  /** 'methods': maps scored, of all methods. */
  stage: string;
  done: number;
  total: number;
}

export interface MetricsResult {
  jobId: number;
  loadId: number;
  backend: BackendName;
  detectionRule: string;
  /** Per method and detected label: %IC, %AD, %AR, %ADO, %ARO, F1+, F1- (fractions) and the curves. */
  evaluation: ImageEvaluation;
}

export interface EngineMemory {
  numTensors: number;
  numBytes: number;
}

/** The engine API exposed by src/worker/engine.worker.ts. Every call may reject with a StudioError. */
/** One figure row: an image's cells (method x label), independent of the current image. */
export interface FigureRowRequest {
  cells: Array<{ method: MethodId; label: number | 'top' }>;
  detection?: DetectionRule;
  options?: Partial<MethodOptions>;
}

export interface FigureRowResult {
  /** What the model sees: the image fitted by the model's policy, at its input size, RGBA row-major. */
  pixels: Uint8ClampedArray;
  pixelsShape: [number, number];
  /** Width / height of the part of the photo the model saw (the figure shows the row at this aspect ratio). */
  aspect: number;
  top: { label: number; name: string; prob: number };
  detected: number[];
  /** In request order; 'top' resolved. */
  cells: Array<{ method: MethodId; label: number; shape: [number, number]; normalized: Float32Array; raw: Float32Array }>;
}

/** What the page knows about the machine that a worker cannot be told otherwise (tests may override it). */
export interface HostInfo {
  /** navigator.deviceMemory of the page, GiB; sets the largest model accepted (core/model/limits.ts). */
  deviceMemoryGiB?: number;
}

/** A change to the loaded model: its target layer, its preprocessing, how images are fitted to its input. */
export interface ModelConfiguration {
  targetLayer?: string;
  preprocessing?: PreprocessingId;
  resizePolicy?: ResizePolicy;
  /** Class names given by the user (a model dropped without a labels file): one per class. */
  labels?: string[];
}

export interface EngineApi {
  init(choice: BackendChoice, host?: HostInfo): Promise<BackendReport>;
  setBackend(choice: BackendChoice): Promise<BackendReport>;
  /** Loads a model; on failure the previous model stays loaded and usable. */
  loadModel(source: ModelSource, onProgress?: (progress: LoadProgress) => void): Promise<ModelSummary>;
  configureModel(options: ModelConfiguration): Promise<ModelSummary>;
  /** Decodes an image (any browser-decodable format, first frame of a GIF, EXIF orientation honoured). */
  setImage(image: Blob): Promise<ImageSummary>;
  /** Explains the current image. Long methods report progress; a newer analyze or cancel() stops it between batches. */
  analyze(request: AnalyzeRequest, onProgress?: (progress: AnalyzeProgress) => void): Promise<AnalyzeResult>;
  /**
   * Faithfulness metrics of the current image (masked forward passes, batched; progress; cancel() or a newer
   * analyze / evaluateMetrics stops it between batches).
   */
  evaluateMetrics(request: MetricsRequest, onProgress?: (progress: MetricsProgress) => void): Promise<MetricsResult>;
  /**
   * One image of a folder evaluation, independent of the current image: decoded, fitted to the model as the
   * current model's policy says, explained and scored; `mask` (a VOC palette PNG of the same image) adds the
   * pointing game and the segmentation prior. Cancellable like evaluateMetrics.
   */
  evaluateFile(image: Blob, mask: Blob | null, name: string, request: MetricsRequest): Promise<ImageEvaluation>;
  /**
   * Explains an image other than the current one (the exploration queue, in the background): decoded and
   * fitted like the current image, its display size computed as setImage's would be. Cancellable like analyze.
   */
  analyzeFile(image: Blob, request: Omit<AnalyzeRequest, 'displaySize'>): Promise<{ result: AnalyzeResult; displaySize: [number, number] }>;
  /** Explains one image of a figure (decoded and fitted like evaluateFile). Cancellable like analyze. */
  explainFigureRow(image: Blob, request: FigureRowRequest): Promise<FigureRowResult>;
  /** The numbers of the classroom walkthrough for the current image (src/core/methods/walkthrough.ts). */
  walkthrough(request: WalkthroughRequest): Promise<WalkthroughData>;
  /** Cancels the running analysis (it rejects with a `cancelled` error); the model stays loaded. */
  cancel(): Promise<void>;
  memory(): Promise<EngineMemory>;
  /**
   * The current image as the model gets it before preprocessing: `[height, width, 3]` RGB bytes, row-major
   * (the shared resampling of shared/model-input.ts). For the console and the studio/CLI parity test.
   */
  modelInput(): Promise<ModelInputPixels>;
  /** Destroys the WebGPU device as a driver reset would (the device-loss test; no-op on other backends). */
  simulateDeviceLoss(): Promise<void>;
}

/**
 * Posted by the worker (outside Comlink) when its WebGPU device is lost: the client then replaces the worker
 * as after a crash (a new worker gets a new device), and the store falls back to wasm if it keeps happening.
 */
export interface ModelInputPixels {
  height: number;
  width: number;
  /** `[height, width, 3]` RGB bytes. */
  pixels: Uint8Array;
}

export const DEVICE_LOST_MESSAGE = 'cam-studio:device-lost';
export interface DeviceLostMessage {
  type: typeof DEVICE_LOST_MESSAGE;
  message: string;
}

// ---- schemas of what crosses into the worker (src/worker/validated-api.ts parses every call with them) ----

const CLASS_INDEX = integerField(0, 1_000_000);
const METHOD = choiceField(METHOD_IDS);
const TOP_K = integerField(1, 1000);
const SIDE = integerField(1, 16_384);
const CURVES = integerField(0, 1000);
const BATCH = integerField(1, 1024);
const CHANNELS = integerField(1, 65_536);

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'wasm', 'webgl', 'cpu'];
export const BackendChoiceSchema = choiceField(BACKEND_CHOICES).schema;

export const HostInfoSchema = v.object({
  deviceMemoryGiB: v.exactOptional(v.pipe(v.number('a number of GiB'), v.minValue(0, 'a number of GiB'))),
}) as unknown as Schema<HostInfo>;

export const ModelSourceSchema = v.variant(
  'kind',
  [
    v.object({ kind: v.literal('url'), url: v.pipe(v.string('a URL'), v.minLength(1, 'a URL')) }),
    v.object({
      kind: v.literal('files'),
      files: v.pipe(v.array(v.file('a file'), 'a list of files'), v.minLength(1, 'at least one file')),
    }),
  ],
  'a model URL or dropped files',
) as unknown as Schema<ModelSource>;

export const ModelConfigurationSchema = v.object({
  targetLayer: v.exactOptional(v.pipe(v.string('a layer or node name'), v.minLength(1, 'a layer or node name'))),
  preprocessing: v.exactOptional(PREPROCESSING.schema),
  resizePolicy: v.exactOptional(RESIZE_POLICY.schema),
  labels: v.exactOptional(v.array(v.string('a class name'), 'a list of class names')),
}) as unknown as Schema<ModelConfiguration>;

const methods = v.array(METHOD.schema, `a list of method ids (${METHOD.allowed})`);
const analysisFields = {
  labels: v.union([v.literal('auto'), v.array(CLASS_INDEX.schema)], `"auto" or a list of class indices (${CLASS_INDEX.allowed})`),
  methods,
  topK: TOP_K.schema,
  detection: v.exactOptional(DetectionRuleSchema),
  options: v.exactOptional(MethodOptionsRequestSchema),
  meta: v.exactOptional(MetaOptionsSchema),
};

export const AnalyzeRequestSchema = v.object({
  ...analysisFields,
  displaySize: v.tuple([SIDE.schema, SIDE.schema], `[height, width], each ${SIDE.allowed}`),
}) as unknown as Schema<AnalyzeRequest>;

export const FileAnalyzeRequestSchema = v.object(analysisFields) as unknown as Schema<Omit<AnalyzeRequest, 'displaySize'>>;

export const MetricsRequestSchema = v.object({
  methods,
  detection: v.exactOptional(DetectionRuleSchema),
  curveSteps: CURVES.schema,
  batchSize: v.exactOptional(BATCH.schema),
  options: v.exactOptional(MethodOptionsRequestSchema),
}) as unknown as Schema<MetricsRequest>;

export const FigureRowRequestSchema = v.object({
  cells: v.array(
    v.object({ method: METHOD.schema, label: v.union([v.literal('top'), CLASS_INDEX.schema], `"top" or ${CLASS_INDEX.allowed}`) }),
  ),
  detection: v.exactOptional(DetectionRuleSchema),
  options: v.exactOptional(MethodOptionsRequestSchema),
}) as unknown as Schema<FigureRowRequest>;

export const WalkthroughRequestSchema = v.object({
  label: CLASS_INDEX.schema,
  contrastLabel: v.union([v.null(), CLASS_INDEX.schema], `null or ${CLASS_INDEX.allowed}`),
  channels: CHANNELS.schema,
}) as unknown as Schema<WalkthroughRequest>;

export const BlobSchema = v.blob('a file') as unknown as Schema<Blob>;
export const NameSchema = v.string('a file name') as unknown as Schema<string>;
export const OptionalBlobSchema = v.nullable(v.blob('a file or null')) as unknown as Schema<Blob | null>;
