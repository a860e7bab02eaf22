/**
 * The engine: the only place that keeps models and tensors alive and awaits tensor data. It implements
 * the EngineApi contract (src/shared/protocol.ts) on the shared pipeline of src/core/pipeline.ts; the
 * worker entry wraps it in validated-api.ts, so every call arrives parsed.
 *
 * Caching: the pass (preprocessed input, forward pass, probabilities) of the current (model, target layer,
 * image, policy, preprocessing) is kept, so re-explaining other labels or methods costs no new forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { describeDetectionRule } from '../shared/detection';
import { StudioError } from '../shared/errors';
import type { SegmentationMask } from '../shared/metrics/localisation';
import { fitMask } from '../shared/metrics/localisation';
import type { ImageEvaluation } from '../shared/metrics/report';
import type {
  AnalyzeProgress,
  AnalyzeRequest,
  AnalyzeResult,
  BackendChoice,
  BackendReport,
  EngineApi,
  EngineMemory,
  FigureRowRequest,
  FigureRowResult,
  HostInfo,
  ImageSummary,
  LoadProgress,
  MetricsProgress,
  MetricsRequest,
  MetricsResult,
  ModelConfiguration,
  ModelSource,
  ModelSummary,
  WalkthroughData,
  WalkthroughRequest,
  ModelInputPixels,
} from '../shared/protocol';
import { rgbToRgba } from '../shared/resample';
import { explainCells } from '../core/methods/cells';
import { walkthroughData } from '../core/methods/walkthrough';
import { evaluateImage } from '../core/metrics/evaluate';
import type { Classifier } from '../core/model/classifier';
import { modelWeightLimit, workingMemoryBudget, type WeightLimit } from '../core/model/limits';
import { loadClassifier, loadOnnxClassifier } from '../core/model/load';
import { passOfPixels, releasePass, type ImagePass } from '../core/pipeline';
import { analysisResult, currentBackend, evaluationSettings } from './analysis';
import { selectBackend, watchDeviceLoss, webGpuDevice } from './backend';
import { imageSummary, labelName, modelPixels, modelSummary, type CurrentImage, type CurrentModel } from './current';
import { cropAspect, cropFor } from '../shared/model-input';
import { decodeImage, decodeMask, displaySizeFor } from './image';
import { Jobs } from './jobs';
import { openModelSource } from './model-source';

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
  private backendReport: BackendReport | null = null;
  private model: CurrentModel | null = null;
  private image: CurrentImage | null = null;
  /** The pass of the current model and image, and what it was computed for. */
  private cached: { key: string; pass: ImagePass } | null = null;
  /**
   * Load ids must stay unique when a crashed worker is replaced (the store keys cached results by them), so a
   * fresh engine starts counting at a random offset rather than at 0.
   */
  private loadCounter = Math.floor(Math.random() * 2 ** 40);
  private imageCounter = 0;
  private readonly jobs = new Jobs();
  /** The largest model accepted (from the page's HostInfo). */
  private weightLimit: WeightLimit = modelWeightLimit(undefined);
  /** Bytes one batch of masked inputs may hold (from the page's HostInfo; core/batching.ts). */
  private workingMemory: number = workingMemoryBudget(undefined);

  /** Starts the chosen backend and watches its WebGPU device, if any. */
  private async startBackend(choice: BackendChoice): Promise<BackendReport> {
    const report = await selectBackend(choice);
    const generation = ++this.backendGeneration;
    this.deviceLost = null;
    watchDeviceLoss((message) => {
      if (generation !== this.backendGeneration) return;
      this.deviceLost = message;
      this.jobs.cancel();
      this.hooks.onDeviceLost?.(message);
    });
    return report;
  }

  async simulateDeviceLoss(): Promise<void> {
    webGpuDevice()?.destroy();
  }

  async init(choice: BackendChoice, host: HostInfo = {}): Promise<BackendReport> {
    this.weightLimit = modelWeightLimit(host.deviceMemoryGiB);
    this.workingMemory = workingMemoryBudget(host.deviceMemoryGiB);
    this.backendReport = await this.startBackend(choice);
    return this.backendReport;
  }

  async setBackend(choice: BackendChoice): Promise<BackendReport> {
    const previous = this.model;
    this.clearPass();
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
    keep: {
      targetLayer?: string;
      preprocessing?: ModelConfiguration['preprocessing'] | undefined;
      resizePolicy?: ModelConfiguration['resizePolicy'];
    } = {},
  ): Promise<ModelSummary> {
    if (this.backendReport === null) await this.init('auto');
    const opened = await openModelSource(source, onProgress);
    onProgress?.({ loadedBytes: 0, totalBytes: 0, stage: 'building' });
    const loadOptions = { weightLimit: this.weightLimit, ...(keep.targetLayer === undefined ? {} : { targetLayer: keep.targetLayer }) };
    const loaded =
      opened.model.format === 'onnx'
        ? await loadOnnxClassifier(opened.model.bytes, opened.read, loadOptions)
        : await loadClassifier(opened.model.modelJsonText, opened.read, loadOptions);
    try {
      onProgress?.({ loadedBytes: 0, totalBytes: 0, stage: 'warming-up' });
      await warmUp(loaded.adapter);
    } catch (error) {
      loaded.adapter.dispose();
      throw new StudioError('model-build-failed', `The model loaded but could not run on ${tf.getBackend()}: ${(error as Error).message}`);
    }
    // Only now does the new model replace the current one: a failed load above leaves it untouched.
    this.clearPass();
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
    return modelSummary(this.model);
  }

  async configureModel(options: ModelConfiguration): Promise<ModelSummary> {
    const model = this.requireModel();
    if (options.targetLayer !== undefined && options.targetLayer !== model.loaded.adapter.targetLayer) {
      // A new split of the same model: the old adapter owns no weights of its own, so it is dropped, not disposed.
      model.loaded = { ...model.loaded, adapter: model.loaded.adapter.retarget(options.targetLayer) };
    }
    if (options.preprocessing !== undefined) {
      model.preprocessing = options.preprocessing;
      model.preprocessingSource = 'user';
    }
    if (options.resizePolicy !== undefined) model.resizePolicy = options.resizePolicy;
    if (options.labels !== undefined) {
      const classes = model.loaded.adapter.numClasses;
      if (options.labels.length !== classes) {
        throw new StudioError(
          'invalid-input',
          `The labels name ${options.labels.length} classes; this model has ${classes}. Give one name per class, in class order.`,
        );
      }
      model.loaded = { ...model.loaded, labelNames: [...options.labels], labelsSource: 'your labels' };
    }
    this.clearPass();
    return modelSummary(model);
  }

  async setImage(blob: Blob): Promise<ImageSummary> {
    const { bitmap, scaledFrom } = await decodeImage(blob);
    this.image?.bitmap.close();
    this.imageCounter += 1;
    this.image = { bitmap, imageId: this.imageCounter, ...(scaledFrom === undefined ? {} : { scaledFrom }) };
    this.clearPass();
    return imageSummary(this.image, this.model);
  }

  async cancel(): Promise<void> {
    this.jobs.cancel();
  }

  async analyze(request: AnalyzeRequest, onProgress?: (progress: AnalyzeProgress) => void): Promise<AnalyzeResult> {
    return this.jobs.run('analysis', async (jobId, checkpoint) => {
      const started = performance.now();
      const model = this.requireModel();
      const { pass, reused } = await this.currentPass(model, this.requireImage());
      return analysisResult(
        jobId,
        model,
        pass,
        request,
        checkpoint,
        { started, reused, forwardMs: reused ? 0 : pass.forwardMs, memoryBudgetBytes: this.workingMemory },
        onProgress,
      );
    });
  }

  async analyzeFile(
    imageBlob: Blob,
    request: Omit<AnalyzeRequest, 'displaySize'>,
  ): Promise<{ result: AnalyzeResult; displaySize: [number, number] }> {
    return this.jobs.run('queued analysis', async (jobId, checkpoint) => {
      const started = performance.now();
      const model = this.requireModel();
      const { bitmap } = await decodeImage(imageBlob);
      let pass: ImagePass | null = null;
      try {
        const displaySize = displaySizeFor(
          cropFor(bitmap.width, bitmap.height, model.resizePolicy, [
            model.loaded.adapter.inputShape[0],
            model.loaded.adapter.inputShape[1],
          ]),
        );
        pass = await this.passOf(model, bitmap);
        const result = await analysisResult(jobId, model, pass, { ...request, displaySize }, checkpoint, {
          started,
          reused: false,
          forwardMs: pass.forwardMs,
          memoryBudgetBytes: this.workingMemory,
        });
        return { result, displaySize };
      } finally {
        bitmap.close();
        if (pass !== null) releasePass(pass);
      }
    });
  }

  async evaluateMetrics(request: MetricsRequest, onProgress?: (progress: MetricsProgress) => void): Promise<MetricsResult> {
    return this.jobs.run('metrics computation', async (jobId, checkpoint) => {
      const model = this.requireModel();
      const image = this.requireImage();
      const adapter = model.loaded.adapter;
      const { pass } = await this.currentPass(model, image);
      checkpoint();
      const settings = evaluationSettings(adapter, request, this.workingMemory);
      const evaluation = await evaluateImage(adapter, pass.input, `image ${image.imageId}`, settings, {
        checkpoint,
        forward: pass.forward,
        onProgress: (stage, done, total) => onProgress?.({ jobId, stage, done, total }),
      });
      return {
        jobId,
        loadId: model.loadId,
        backend: currentBackend(),
        detectionRule: describeDetectionRule(settings.detection),
        evaluation,
      };
    });
  }

  async evaluateFile(imageBlob: Blob, maskBlob: Blob | null, name: string, request: MetricsRequest): Promise<ImageEvaluation> {
    return this.jobs.run('folder evaluation', async (_jobId, checkpoint) => {
      const model = this.requireModel();
      const adapter = model.loaded.adapter;
      const [height, width] = adapter.inputShape;
      const { bitmap } = await decodeImage(imageBlob);
      let pass: ImagePass | null = null;
      try {
        let mask: SegmentationMask | undefined;
        if (maskBlob !== null) {
          const decoded = await decodeMask(maskBlob);
          if (decoded.width !== bitmap.width || decoded.height !== bitmap.height) {
            throw new StudioError(
              'image-decode-failed',
              `The mask of ${name} is ${decoded.width}x${decoded.height} px but the image is ${bitmap.width}x${bitmap.height} px.`,
            );
          }
          mask = fitMask(decoded, width, height, model.resizePolicy);
        }
        pass = await this.passOf(model, bitmap);
        checkpoint();
        return await evaluateImage(adapter, pass.input, name, evaluationSettings(adapter, request, this.workingMemory), {
          checkpoint,
          forward: pass.forward,
          ...(mask === undefined ? {} : { mask }),
        });
      } finally {
        bitmap.close();
        if (pass !== null) releasePass(pass);
      }
    });
  }

  async explainFigureRow(imageBlob: Blob, request: FigureRowRequest): Promise<FigureRowResult> {
    return this.jobs.run('figure', async (_jobId, checkpoint) => {
      const model = this.requireModel();
      const adapter = model.loaded.adapter;
      const [height, width] = adapter.inputShape;
      const { bitmap } = await decodeImage(imageBlob);
      let pixels: tf.Tensor4D | null = null;
      let pass: ImagePass | null = null;
      try {
        pixels = modelPixels(model, bitmap);
        pass = await passOfPixels(adapter, pixels, model.preprocessing);
        checkpoint();
        const result = await explainCells(adapter, pass.input, pass.forward, request.cells, {
          checkpoint,
          ...(request.detection === undefined ? {} : { detection: request.detection }),
          ...(request.options === undefined ? {} : { options: request.options }),
        });
        return {
          pixels: rgbToRgba(await pixels.data(), height * width),
          pixelsShape: [height, width],
          aspect: cropAspect(bitmap.width, bitmap.height, model.resizePolicy, [height, width]),
          top: { ...result.top, name: labelName(model, result.top.label) },
          detected: result.detected,
          cells: result.cells,
        };
      } finally {
        bitmap.close();
        pixels?.dispose();
        if (pass !== null) releasePass(pass);
      }
    });
  }

  async walkthrough(request: WalkthroughRequest): Promise<WalkthroughData> {
    const model = this.requireModel();
    const { pass } = await this.currentPass(model, this.requireImage());
    return walkthroughData(model.loaded.adapter, pass.input, pass.forward, request);
  }

  /** The pass of a bitmap under the model's policy and preprocessing; the caller releases it. */
  private async passOf(model: CurrentModel, bitmap: ImageBitmap): Promise<ImagePass> {
    const pixels = modelPixels(model, bitmap);
    try {
      return await passOfPixels(model.loaded.adapter, pixels, model.preprocessing);
    } finally {
      pixels.dispose();
    }
  }

  /** The cached pass of the current model and image, computed when missing. */
  private async currentPass(model: CurrentModel, image: CurrentImage): Promise<{ pass: ImagePass; reused: boolean }> {
    const key = [model.loadId, model.loaded.adapter.targetLayer, image.imageId, model.resizePolicy, model.preprocessing].join('|');
    if (this.cached?.key === key) return { pass: this.cached.pass, reused: true };
    this.clearPass();
    const pass = await this.passOf(model, image.bitmap);
    this.cached = { key, pass };
    return { pass, reused: false };
  }

  private clearPass(): void {
    if (this.cached !== null) releasePass(this.cached.pass);
    this.cached = null;
  }

  async memory(): Promise<EngineMemory> {
    const memory = tf.memory();
    return { numTensors: memory.numTensors, numBytes: memory.numBytes };
  }

  async modelInput(): Promise<ModelInputPixels> {
    const model = this.requireModel();
    const pixels = modelPixels(model, this.requireImage().bitmap);
    try {
      const [, height, width] = pixels.shape;
      return { height, width, pixels: Uint8Array.from(await pixels.data()) };
    } finally {
      pixels.dispose();
    }
  }

  private requireModel(): CurrentModel {
    if (this.deviceLost !== null)
      throw new StudioError('backend-unavailable', `The GPU device was lost (${this.deviceLost}); the engine is being restarted.`);
    if (this.model === null) throw new StudioError('no-model', 'No model is loaded yet: pick one, or drop a TF.js model folder.');
    return this.model;
  }

  private requireImage(): CurrentImage {
    if (this.image === null) throw new StudioError('no-image', 'No image yet: drop a photo, pick a file, paste one or click a sample.');
    return this.image;
  }
}

/** Runs the model once on zeros (compiles WebGPU/WebGL programs; checks the model runs at all). */
async function warmUp(adapter: Classifier): Promise<void> {
  const [height, width, channels] = adapter.inputShape;
  const input = tf.zeros([1, height, width, channels]) as tf.Tensor4D;
  const forward = adapter.forward(input);
  try {
    await forward.logits.data();
  } finally {
    tf.dispose([input, forward.activations, forward.logits]);
  }
}
