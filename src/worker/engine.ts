/**
 * The engine: the only place that keeps models and tensors alive and awaits tensor data. It implements
 * the EngineApi contract (protocol.ts) on top of src/core.
 *
 * Caching: the preprocessed input and the forward pass of the current (model, target layer, image,
 * policy, preprocessing) are kept, so re-explaining other labels or methods costs no new forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../core/errors';
import { upsampleMaps } from '../core/maps/filters';
import { defaultDetectionRule, describeDetectionRule, detectedSet } from '../core/detection';
import { disposeMethodMaps, explain, validateLabels, type ExplainRequest } from '../core/methods/explain';
import { explainCells } from '../core/methods/cells';
import { rgbToRgba } from '../figure/resample';
import { walkthroughData } from '../core/methods/walkthrough';
import { explainWithMeta } from '../core/methods/meta';
import { evaluateImage, type EvaluationSettings, type ImageEvaluation } from '../core/metrics/evaluate';
import type { DetectionRule } from '../core/detection';
import { fitMask, type SegmentationMask } from '../core/metrics/localisation';
import { METHOD_IDS, type MethodId } from '../core/methods/method-ids';
import { getMethod } from '../core/methods/registry';
import { methodAvailability } from '../core/methods/types';
import type { Classifier, ForwardPass } from '../core/model/classifier';
import { loadClassifier, type LoadedClassifier } from '../core/model/load';
import { modelWeightLimit, workingMemoryBudget, type WeightLimit } from '../core/model/limits';
import type { PreprocessingId, ResizePolicy } from '../core/model/metadata';
import { topK } from '../core/predictions';
import { preprocess } from '../core/preprocess';
import { selectBackend, watchDeviceLoss, webGpuDevice } from './backend';
import { cropFor, decodeImage, decodeMask, describePolicy, displayBitmap, displaySizeFor, pixelsForModel, type Crop } from './image';
import { openModelSource } from './model-source';
import type {
  HostInfo,
  AnalyzeProgress, AnalyzeRequest, AnalyzeResult, BackendChoice, BackendReport, EngineApi, EngineMemory, FigureRowRequest, FigureRowResult, HeatmapResult, WalkthroughData, WalkthroughRequest,
  ImageSummary, LoadProgress, MetricsProgress, MetricsRequest, MetricsResult, ModelSource, ModelSummary,
} from './protocol';

/** The evaluation settings of a metrics request (pointing tolerance: 15 px on a ~500-px image, scaled). */
function evaluationSettings(adapter: Classifier, request: MetricsRequest, detection: DetectionRule, memoryBudgetBytes: number): EvaluationSettings {
  const [height, width] = adapter.inputShape;
  return {
    memoryBudgetBytes,
    methods: request.methods,
    detection,
    batchSize: request.batchSize ?? 16,
    pointingTolerance: Math.max(1, Math.round((15 * Math.max(height, width)) / 500)),
    backgroundThreshold: 0.25,
    curveSteps: request.curveSteps,
    ...(request.options === undefined ? {} : { options: request.options }),
  };
}

interface CurrentModel {
  loaded: LoadedClassifier;
  source: ModelSource;
  sourceDescription: string;
  name: string;
  loadId: number;
  preprocessing: PreprocessingId;
  preprocessingSource: ModelSummary['preprocessingSource'];
  resizePolicy: ResizePolicy;
}

interface CurrentImage {
  bitmap: ImageBitmap;
  imageId: number;
  /** `[width, height]` of the file when decoded scaled down. */
  scaledFrom?: [number, number];
}

interface ForwardCache {
  key: string;
  /** The preprocessed input `[1, H, W, C]` (perturbation and saliency methods need it). */
  input: tf.Tensor4D;
  forward: ForwardPass;
  probs: Float32Array;
  logits: Float32Array;
}

export interface EngineHooks {
  /** The WebGPU device was lost (the worker entry tells the page). */
  onDeviceLost?: (message: string) => void;
}

export class Engine implements EngineApi {
  constructor(private readonly hooks: EngineHooks = {}) {}

  /** Set when the WebGPU device is lost: every later call fails at once rather than compute garbage. */
  private deviceLost: string | null = null;
  /** Counts backend starts, so that a loss reported for an earlier backend's device is ignored. */
  private backendGeneration = 0;

  /** Starts the chosen backend and watches its WebGPU device, if any. */
  private async startBackend(choice: BackendChoice): Promise<BackendReport> {
    const report = await selectBackend(choice);
    const generation = ++this.backendGeneration;
    this.deviceLost = null;
    watchDeviceLoss((message) => {
      if (generation !== this.backendGeneration) return;
      this.deviceLost = message;
      if (this.activeJob !== null) this.activeJob.cancelled = true;
      this.hooks.onDeviceLost?.(message);
    });
    return report;
  }

  async simulateDeviceLoss(): Promise<void> {
    webGpuDevice()?.destroy();
  }
  private backendReport: BackendReport | null = null;
  private model: CurrentModel | null = null;
  private image: CurrentImage | null = null;
  private forwardCache: ForwardCache | null = null;
  /**
   * Load ids must stay unique when a crashed worker is replaced (the store keys cached results by them), so a
   * fresh engine starts counting at a random offset rather than at 0.
   */
  private loadCounter = Math.floor(Math.random() * 2 ** 40);
  private imageCounter = 0;
  private jobCounter = 0;
  /** The running analysis; cancel() or a newer analyze() marks it cancelled, and it stops at its next checkpoint. */
  private activeJob: { id: number; cancelled: boolean } | null = null;

  /** The largest model accepted (from the page's HostInfo). */
  private weightLimit: WeightLimit = modelWeightLimit(undefined);
  /** Bytes one batch of masked inputs may hold (from the page's HostInfo; core/batching.ts). */
  private workingMemory: number = workingMemoryBudget(undefined);

  async init(choice: BackendChoice, host: HostInfo = {}): Promise<BackendReport> {
    this.weightLimit = modelWeightLimit(host.deviceMemoryGiB);
    this.workingMemory = workingMemoryBudget(host.deviceMemoryGiB);
    this.backendReport = await this.startBackend(choice);
    return this.backendReport;
  }

  async setBackend(choice: BackendChoice): Promise<BackendReport> {
    const previous = this.model;
    this.clearForward();
    if (previous !== null) {
      previous.loaded.adapter.dispose();
      this.model = null;
    }
    this.backendReport = await this.startBackend(choice);
    if (previous !== null) {
      // Weights live on the backend that loaded them: load the same model again on the new one.
      await this.loadModel(previous.source, undefined, {
        targetLayer: previous.loaded.adapter.targetLayer,
        preprocessing: previous.preprocessingSource === 'user' ? previous.preprocessing : undefined,
        resizePolicy: previous.resizePolicy,
      });
    }
    return this.backendReport;
  }

  async loadModel(
    source: ModelSource,
    onProgress?: (progress: LoadProgress) => void,
    keep: { targetLayer?: string; preprocessing?: PreprocessingId | undefined; resizePolicy?: ResizePolicy } = {},
  ): Promise<ModelSummary> {
    if (this.backendReport === null) await this.init('auto');
    const opened = await openModelSource(source, onProgress);
    onProgress?.({ loadedBytes: 0, totalBytes: 0, stage: 'building' });
    const loaded = await loadClassifier(opened.modelJsonText, opened.read, {
      weightLimit: this.weightLimit,
      ...(keep.targetLayer === undefined ? {} : { targetLayer: keep.targetLayer }),
    });
    try {
      onProgress?.({ loadedBytes: 0, totalBytes: 0, stage: 'warming-up' });
      await this.warmUp(loaded.adapter);
    } catch (error) {
      loaded.adapter.dispose();
      throw new StudioError('model-build-failed', `The model loaded but could not run on ${tf.getBackend()}: ${(error as Error).message}`);
    }
    // Only now does the new model replace the current one: a failed load above leaves it untouched.
    this.clearForward();
    this.model?.loaded.adapter.dispose();
    this.loadCounter += 1;
    this.model = {
      loaded,
      source,
      sourceDescription: opened.description,
      name: loaded.metadata.name ?? opened.fallbackName,
      loadId: this.loadCounter,
      preprocessing: keep.preprocessing ?? loaded.preprocessing,
      preprocessingSource: keep.preprocessing === undefined ? loaded.preprocessingSource : 'user',
      resizePolicy: keep.resizePolicy ?? loaded.resizePolicy,
    };
    return this.summary();
  }

  /** Runs the model once on zeros (compiles WebGPU/WebGL programs; checks the model runs at all). */
  private async warmUp(adapter: Classifier): Promise<void> {
    const [height, width, channels] = adapter.inputShape;
    const input = tf.zeros([1, height, width, channels]) as tf.Tensor4D;
    const forward = adapter.forward(input);
    try {
      await forward.logits.data();
    } finally {
      input.dispose();
      forward.activations.dispose();
      forward.logits.dispose();
    }
  }

  async configureModel(options: { targetLayer?: string; preprocessing?: PreprocessingId; resizePolicy?: ResizePolicy }): Promise<ModelSummary> {
    const model = this.requireModel();
    if (options.targetLayer !== undefined && options.targetLayer !== model.loaded.adapter.targetLayer) {
      // A new split of the same model: the old adapter owns no weights of its own, so it is dropped, not disposed.
      const adapter = model.loaded.adapter.retarget(options.targetLayer);
      model.loaded = { ...model.loaded, adapter };
    }
    if (options.preprocessing !== undefined) {
      model.preprocessing = options.preprocessing;
      model.preprocessingSource = 'user';
    }
    if (options.resizePolicy !== undefined) model.resizePolicy = options.resizePolicy;
    this.clearForward();
    return this.summary();
  }

  async setImage(blob: Blob): Promise<ImageSummary> {
    const { bitmap, scaledFrom } = await decodeImage(blob);
    this.image?.bitmap.close();
    this.imageCounter += 1;
    this.image = { bitmap, imageId: this.imageCounter, ...(scaledFrom === undefined ? {} : { scaledFrom }) };
    this.clearForward();
    return this.imageSummary();
  }

  /** Describes the current image under the current model's policy (re-call after a policy change). */
  private async imageSummary(): Promise<ImageSummary> {
    const image = this.requireImage();
    const policy = this.model?.resizePolicy ?? 'squash';
    const crop = cropFor(image.bitmap.width, image.bitmap.height, policy);
    const input = this.model?.loaded.adapter.inputShape ?? [224, 224, 3];
    const display = await displayBitmap(image.bitmap, crop);
    return {
      originalWidth: image.bitmap.width,
      originalHeight: image.bitmap.height,
      crop,
      resizePolicy: policy,
      policyDescription: (image.scaledFrom === undefined ? '' : `Decoded at ${image.bitmap.width}x${image.bitmap.height} from ${image.scaledFrom[0]}x${image.scaledFrom[1]}; `) +
        describePolicy(policy, crop, [image.bitmap.width, image.bitmap.height], [input[0], input[1]]),
      display,
      ...(image.scaledFrom === undefined ? {} : { scaledFrom: image.scaledFrom }),
    };
  }

  async cancel(): Promise<void> {
    if (this.activeJob !== null) this.activeJob.cancelled = true;
  }

  async analyze(request: AnalyzeRequest, onProgress?: (progress: AnalyzeProgress) => void): Promise<AnalyzeResult> {
    return this.runJob('analysis', (jobId, checkpoint) => this.runAnalysis(jobId, request, checkpoint, onProgress));
  }

  async evaluateMetrics(request: MetricsRequest, onProgress?: (progress: MetricsProgress) => void): Promise<MetricsResult> {
    return this.runJob('metrics computation', async (jobId, checkpoint) => {
      const model = this.requireModel();
      const image = this.requireImage();
      const adapter = model.loaded.adapter;
      const { cache } = await this.forwardFor(model, image);
      checkpoint();
      const rule = request.detection ?? defaultDetectionRule(adapter.headActivation);
      validateLabels(adapter, rule.kind === 'ground-truth' ? rule.labels : []);
      const evaluation = await evaluateImage(adapter, cache.input, `image ${image.imageId}`, evaluationSettings(adapter, request, rule, this.workingMemory), {
        checkpoint, forward: cache.forward, onProgress: (stage, done, total) => onProgress?.({ jobId, stage, done, total }),
      });
      return { jobId, loadId: model.loadId, backend: tf.getBackend() as MetricsResult['backend'], detectionRule: describeDetectionRule(rule), evaluation };
    });
  }

  async evaluateFile(imageBlob: Blob, maskBlob: Blob | null, name: string, request: MetricsRequest): Promise<ImageEvaluation> {
    return this.runJob('folder evaluation', async (_jobId, checkpoint) => {
      const model = this.requireModel();
      const adapter = model.loaded.adapter;
      const [height, width, channels] = adapter.inputShape;
      const { bitmap } = await decodeImage(imageBlob);
      try {
        let mask: SegmentationMask | undefined;
        if (maskBlob !== null) {
          const decoded = await decodeMask(maskBlob);
          if (decoded.width !== bitmap.width || decoded.height !== bitmap.height) {
            throw new StudioError('image-decode-failed', `The mask of ${name} is ${decoded.width}x${decoded.height} px but the image is ${bitmap.width}x${bitmap.height} px.`);
          }
          mask = fitMask(decoded, width, height, model.resizePolicy);
        }
        const crop = cropFor(bitmap.width, bitmap.height, model.resizePolicy);
        const pixels = pixelsForModel(bitmap, crop, [height, width]);
        const input = preprocess(pixels, model.preprocessing, channels);
        pixels.dispose();
        try {
          checkpoint();
          const rule = request.detection ?? defaultDetectionRule(adapter.headActivation);
          return await evaluateImage(adapter, input, name, evaluationSettings(adapter, request, rule, this.workingMemory), { checkpoint, ...(mask === undefined ? {} : { mask }) });
        } finally {
          input.dispose();
        }
      } finally {
        bitmap.close();
      }
    });
  }

  async explainFigureRow(imageBlob: Blob, request: FigureRowRequest): Promise<FigureRowResult> {
    return this.runJob('figure', async (_jobId, checkpoint) => {
      const model = this.requireModel();
      const adapter = model.loaded.adapter;
      const [height, width, channels] = adapter.inputShape;
      validateLabels(adapter, request.cells.flatMap((cell) => (cell.label === 'top' ? [] : [cell.label])));
      const { bitmap } = await decodeImage(imageBlob);
      let pixels: tf.Tensor4D | null = null;
      let input: tf.Tensor4D | null = null;
      let forward: ForwardPass | null = null;
      try {
        pixels = pixelsForModel(bitmap, cropFor(bitmap.width, bitmap.height, model.resizePolicy), [height, width]);
        input = preprocess(pixels, model.preprocessing, channels);
        forward = adapter.forward(input);
        checkpoint();
        const result = await explainCells(adapter, input, forward, request.cells, {
          checkpoint,
          ...(request.detection === undefined ? {} : { detection: request.detection }),
          ...(request.options === undefined ? {} : { options: request.options }),
        });
        return {
          pixels: rgbToRgba(await pixels.data(), height * width),
          pixelsShape: [height, width],
          top: { ...result.top, name: model.loaded.labelNames[result.top.label] ?? `class ${result.top.label}` },
          detected: result.detected,
          cells: result.cells,
        };
      } finally {
        bitmap.close();
        for (const tensor of [pixels, input, forward?.activations, forward?.logits]) tensor?.dispose();
      }
    });
  }

  async walkthrough(request: WalkthroughRequest): Promise<WalkthroughData> {
    const model = this.requireModel();
    const image = this.requireImage();
    const { cache } = await this.forwardFor(model, image);
    return walkthroughData(model.loaded.adapter, cache.input, cache.forward, request);
  }

  /** Runs one job: a newer job supersedes (cancels) the running one, which stops at its next checkpoint. */
  private async runJob<T>(what: string, work: (jobId: number, checkpoint: () => void) => Promise<T>): Promise<T> {
    const jobId = (this.jobCounter += 1);
    if (this.activeJob !== null) this.activeJob.cancelled = true;
    const job = { id: jobId, cancelled: false };
    this.activeJob = job;
    const checkpoint = (): void => {
      if (job.cancelled) throw new StudioError('cancelled', `The ${what} was cancelled; the model is still loaded.`);
    };
    try {
      return await work(jobId, checkpoint);
    } finally {
      if (this.activeJob === job) this.activeJob = null;
    }
  }

  async analyzeFile(imageBlob: Blob, request: Omit<AnalyzeRequest, 'displaySize'>): Promise<{ result: AnalyzeResult; displaySize: [number, number] }> {
    return this.runJob('queued analysis', async (jobId, checkpoint) => {
      const model = this.requireModel();
      const { bitmap } = await decodeImage(imageBlob);
      let cache: ForwardCache | null = null;
      try {
        const displaySize = displaySizeFor(cropFor(bitmap.width, bitmap.height, model.resizePolicy));
        const started = performance.now();
        cache = await this.computeForward(model, bitmap, 'file');
        const source = { cache, reused: false, forwardMs: performance.now() - started };
        const result = await this.runAnalysis(jobId, { ...request, displaySize }, checkpoint, undefined, source);
        return { result, displaySize };
      } finally {
        bitmap.close();
        if (cache !== null) tf.dispose([cache.input, cache.forward.activations, cache.forward.logits]);
      }
    });
  }

  private async runAnalysis(
    jobId: number,
    request: AnalyzeRequest,
    checkpoint: () => void,
    onProgress?: (progress: AnalyzeProgress) => void,
    source?: { cache: ForwardCache; reused: boolean; forwardMs: number },
  ): Promise<AnalyzeResult> {
    const started = performance.now();
    const model = this.requireModel();
    const adapter = model.loaded.adapter;

    const { cache, reused, forwardMs } = source ?? (await this.forwardFor(model, this.requireImage()));
    checkpoint();
    const rule = request.detection ?? defaultDetectionRule(adapter.headActivation);
    validateLabels(adapter, rule.kind === 'ground-truth' ? rule.labels : []);
    const detected = detectedSet(rule, cache.probs, cache.logits);
    const labels = request.labels === 'auto'
      ? (detected.length > 0 ? detected : topK(cache.probs, cache.logits, 1).map((ranked) => ranked.label))
      : [...request.labels];

    const predictions = topK(cache.probs, cache.logits, request.topK).map((ranked) => ({
      ...ranked,
      name: model.loaded.labelNames[ranked.label] ?? `class ${ranked.label}`,
    }));
    const explainRequest: ExplainRequest = {
      labels,
      methods: request.methods,
      detected,
      ...(request.options === undefined ? {} : { options: request.options }),
      memoryBudgetBytes: this.workingMemory,
      checkpoint,
      onProgress: (method, done, total) => onProgress?.({ jobId, method, done, total }),
    };
    const useMeta = request.meta !== undefined && (request.meta.tta !== undefined || request.meta.smooth !== undefined);
    const results = labels.length === 0 || request.methods.length === 0
      ? []
      : useMeta
        ? await explainWithMeta(adapter, cache.input, explainRequest, request.meta ?? {})
        : await explain(adapter, cache.input, cache.forward, explainRequest);
    const maps: HeatmapResult[] = [];
    const methodMs: Partial<Record<MethodId, number>> = {};
    try {
      for (const result of results) {
        const methodStarted = performance.now();
        const [count, h, w] = result.normalized.shape;
        const display = upsampleMaps(result.normalized, request.displaySize);
        const rawMax = tf.max(result.raw, [1, 2]);
        const rawMin = tf.min(result.raw, [1, 2]);
        try {
          const [normalizedData, displayData, maxData, minData] = await Promise.all([
            result.normalized.data() as Promise<Float32Array>,
            display.data() as Promise<Float32Array>,
            rawMax.data(),
            rawMin.data(),
          ]);
          const [displayHeight, displayWidth] = request.displaySize;
          for (let index = 0; index < count; index += 1) {
            const extras: Record<string, number> = {};
            for (const [key, values] of Object.entries(result.extras)) {
              const value = values.length === count ? values[index] : values[0];
              if (value !== undefined) extras[key] = value;
            }
            maps.push({
              method: result.method,
              label: labels[index] as number,
              resolution: result.resolution,
              shape: [h, w],
              normalized: normalizedData.slice(index * h * w, (index + 1) * h * w),
              rawMin: minData[index] as number,
              rawMax: maxData[index] as number,
              display: displayData.slice(index * displayHeight * displayWidth, (index + 1) * displayHeight * displayWidth),
              displayShape: [displayHeight, displayWidth],
              extras,
            });
          }
        } finally {
          display.dispose();
          rawMax.dispose();
          rawMin.dispose();
        }
        methodMs[result.method] = result.ms + (performance.now() - methodStarted);
      }
    } finally {
      results.forEach(disposeMethodMaps);
    }
    return {
      jobId,
      loadId: model.loadId,
      backend: tf.getBackend() as AnalyzeResult['backend'],
      predictions,
      labels,
      detected,
      detectionRule: describeDetectionRule(rule),
      maps,
      notes: [...new Set(results.flatMap((result) => result.notes))],
      timingsMs: { forward: forwardMs, total: performance.now() - started, methods: methodMs },
      forwardReused: reused,
    };
  }

  /** The cached forward pass for the current model and image, computed when missing. */
  private async forwardFor(model: CurrentModel, image: CurrentImage): Promise<{ cache: ForwardCache; reused: boolean; forwardMs: number }> {
    const adapter = model.loaded.adapter;
    const key = [model.loadId, adapter.targetLayer, image.imageId, model.resizePolicy, model.preprocessing].join('|');
    if (this.forwardCache?.key === key) return { cache: this.forwardCache, reused: true, forwardMs: 0 };
    this.clearForward();
    const started = performance.now();
    this.forwardCache = await this.computeForward(model, image.bitmap, key);
    return { cache: this.forwardCache, reused: false, forwardMs: performance.now() - started };
  }

  /** The preprocessed input, forward pass, logits and probabilities of a bitmap under the model's policy; the caller owns them. */
  private async computeForward(model: CurrentModel, bitmap: ImageBitmap, key: string): Promise<ForwardCache> {
    const adapter = model.loaded.adapter;
    const [height, width, channels] = adapter.inputShape;
    const crop: Crop = cropFor(bitmap.width, bitmap.height, model.resizePolicy);
    const pixels = pixelsForModel(bitmap, crop, [height, width]);
    const input = preprocess(pixels, model.preprocessing, channels);
    pixels.dispose();
    let forward: ForwardPass;
    try {
      forward = adapter.forward(input);
    } catch (error) {
      input.dispose();
      throw error;
    }
    const probsTensor = adapter.probabilities(forward.logits);
    try {
      const [logits, probs] = await Promise.all([forward.logits.data() as Promise<Float32Array>, probsTensor.data() as Promise<Float32Array>]);
      return { key, input, forward, probs, logits };
    } catch (error) {
      tf.dispose([input, forward.activations, forward.logits]);
      throw error;
    } finally {
      probsTensor.dispose();
    }
  }

  private clearForward(): void {
    if (this.forwardCache !== null) {
      this.forwardCache.input.dispose();
      this.forwardCache.forward.activations.dispose();
      this.forwardCache.forward.logits.dispose();
      this.forwardCache = null;
    }
  }

  async memory(): Promise<EngineMemory> {
    const memory = tf.memory();
    return { numTensors: memory.numTensors, numBytes: memory.numBytes };
  }

  private requireModel(): CurrentModel {
    if (this.deviceLost !== null) throw new StudioError('backend-unavailable', `The GPU device was lost (${this.deviceLost}); the engine is being restarted.`);
    if (this.model === null) throw new StudioError('no-model', 'No model is loaded yet: pick one, or drop a TF.js model folder.');
    return this.model;
  }

  private requireImage(): CurrentImage {
    if (this.image === null) throw new StudioError('no-image', 'No image yet: drop a photo, pick a file, paste one or click a sample.');
    return this.image;
  }

  private summary(): ModelSummary {
    const model = this.requireModel();
    const adapter = model.loaded.adapter;
    return {
      loadId: model.loadId,
      name: model.name,
      source: model.sourceDescription,
      inputShape: adapter.inputShape,
      numClasses: adapter.numClasses,
      labelNames: Array.from({ length: adapter.numClasses }, (_, k) => model.loaded.labelNames[k] ?? `class ${k}`),
      numParameters: adapter.numParameters,
      targetLayer: adapter.targetLayer,
      targetLayerCandidates: adapter.candidates,
      headKind: adapter.headKind,
      headActivation: adapter.headActivation,
      preprocessing: model.preprocessing,
      preprocessingSource: model.preprocessingSource,
      resizePolicy: model.resizePolicy,
      labelsSource: model.loaded.labelsSource,
      methods: METHOD_IDS.map((id) => {
        const method = getMethod(id);
        const availability = methodAvailability(method, adapter);
        return { id, title: method.title, available: availability.available, ...(availability.reason === undefined ? {} : { reason: availability.reason }) };
      }),
      notes: model.loaded.notes,
    };
  }
}
