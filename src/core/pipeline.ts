/**
 * The one pipeline from an image to its explanation, used by every front end: the studio's worker
 * (src/worker/engine.ts), `npm run explain`, `npm run figure` (through cells.ts) and `npm run evaluate`
 * (through metrics/evaluate.ts):
 *
 *   RGB pixels `[1, H, W, 3]` -> preprocess -> one forward pass (A `[1, h, w, K]`, S `[1, L]`, p `[L]`)
 *     -> the detected set C_x -> the labels to explain -> the methods (with the meta-methods, if any)
 *     -> per-label maps (tensors for scoring, or plain arrays for display and files).
 *
 * Each step is a function, so a caller that caches a step (the worker keeps the forward pass of the
 * current image) or starts from a tensor (`--input-tensor`) enters the pipeline where it stands.
 */
import * as tf from '@tensorflow/tfjs';
import { defaultDetectionRule, detectedSet, type DetectionRule } from '../shared/detection';
import type { MethodId } from '../shared/methods';
import type { PreprocessingId } from '../shared/model-metadata';
import { StudioError } from '../shared/errors';
import type { MetaOptions, MethodOptions } from '../shared/options';
import { topK, type RankedClass } from '../shared/predictions';
import { upsampleMaps } from './maps/filters';
import { disposeMethodMaps, explain, validateLabels, type ExplainRequest, type MethodMaps } from './methods/explain';
import { explainWithMeta, type AugmentationProgress } from './methods/meta';
import { countNonFinite } from './model/finite';
import type { Classifier, ForwardPass } from './model/classifier';
import { preprocess } from './preprocess';

/** An image after its forward pass: what every later step reads. */
export interface ImagePass {
  /** The preprocessed input `[1, H, W, C]` (perturbation and input-gradient methods need it). */
  input: tf.Tensor4D;
  forward: ForwardPass;
  /** Probabilities `[L]` under the head's activation, and the logits `[L]`, downloaded. */
  probs: Float32Array;
  logits: Float32Array;
  /** Wall time of the forward pass and the download, ms. */
  forwardMs: number;
}

/**
 * The forward pass of a preprocessed input `[1, H, W, C]`. The pass takes the input over: release both
 * with {@link releasePass}. Nothing leaks if the model fails.
 */
export async function passOfInput(classifier: Classifier, input: tf.Tensor4D): Promise<ImagePass> {
  const started = performance.now();
  let forward: ForwardPass;
  try {
    forward = classifier.forward(input);
  } catch (error) {
    input.dispose();
    throw error;
  }
  try {
    const { probs, logits } = await scoresOf(classifier, forward);
    const { count } = countNonFinite(logits);
    if (count > 0)
      throw new StudioError(
        'non-finite-output',
        `The model's output holds ${count} NaN or infinite score${count === 1 ? '' : 's'} of ${logits.length} for this input: ` +
          'its predictions and maps would be meaningless. Check the input (a tensor with NaN or Inf, or far outside the preprocessing range) and the model.',
      );
    return { input, forward, probs, logits, forwardMs: performance.now() - started };
  } catch (error) {
    tf.dispose([input, forward.activations, forward.logits]);
    throw error;
  }
}

/** RGB pixels `[1, H, W, 3]` in [0, 255] (the caller's) -> preprocess -> {@link passOfInput}. */
export async function passOfPixels(classifier: Classifier, pixels: tf.Tensor4D, preprocessing: PreprocessingId): Promise<ImagePass> {
  const started = performance.now();
  const pass = await passOfInput(classifier, preprocess(pixels, preprocessing, classifier.inputShape[2]));
  return { ...pass, forwardMs: performance.now() - started };
}

/** Frees a pass's input and forward pass. */
export function releasePass(pass: ImagePass): void {
  tf.dispose([pass.input, pass.forward.activations, pass.forward.logits]);
}

/** The probabilities and logits of a forward pass, downloaded: `[L]` each. */
export async function scoresOf(classifier: Classifier, forward: ForwardPass): Promise<{ probs: Float32Array; logits: Float32Array }> {
  const probabilities = classifier.probabilities(forward.logits);
  try {
    const [probs, logits] = await Promise.all([
      probabilities.data() as Promise<Float32Array>,
      forward.logits.data() as Promise<Float32Array>,
    ]);
    return { probs, logits };
  } finally {
    probabilities.dispose();
  }
}

/** The rule in force: the given one, else the head's default. Ground-truth labels must exist. */
export function detectionRuleFor(classifier: Classifier, rule: DetectionRule | undefined): DetectionRule {
  const chosen = rule ?? defaultDetectionRule(classifier.headActivation);
  if (chosen.kind === 'ground-truth') validateLabels(classifier, chosen.labels);
  return chosen;
}

/** Which labels to explain: the given ones; 'detected': C_x; 'auto': C_x, or the top class when C_x is empty. */
export type LabelChoice = readonly number[] | 'detected' | 'auto';

export interface PipelineRequest {
  labels: LabelChoice;
  methods: readonly MethodId[];
  /** The rule of C_x; default: the head's (sigmoid > 0.5, or the top 3). */
  detection?: DetectionRule;
  /** The set MinMax contrasts each label with; default: C_x. */
  contrast?: readonly number[];
  options?: Partial<MethodOptions>;
  /** Test-time augmentation and/or noise smoothing around every method (maps then at input resolution). */
  meta?: MetaOptions;
  /** Bytes the tensors of one batch of masked inputs may hold (default: core/batching.ts). */
  memoryBudgetBytes?: number;
  /** Called between methods and batches; throws (a `cancelled` StudioError) to stop. */
  checkpoint?: () => void;
  onProgress?: (method: MethodId, done: number, total: number, augmentation?: AugmentationProgress) => void;
  onAugmentation?: (done: number, total: number, name: string) => void;
}

export interface ExplainedTensors {
  rule: DetectionRule;
  detected: number[];
  /** The explained labels: map n of every method is for labels[n]. */
  labels: number[];
  /** One entry per method, in order (empty when there is no label or no method); the caller disposes them. */
  results: MethodMaps[];
}

/** The detected set of a pass under a rule (in decreasing probability; ground truth: as given). */
export function detectedOf(pass: Pick<ImagePass, 'probs' | 'logits'>, rule: DetectionRule): number[] {
  return detectedSet(rule, pass.probs, pass.logits);
}

function labelsFor(choice: LabelChoice, detected: readonly number[], pass: Pick<ImagePass, 'probs' | 'logits'>): number[] {
  if (choice === 'detected') return [...detected];
  if (choice === 'auto') return detected.length > 0 ? [...detected] : topK(pass.probs, pass.logits, 1).map((ranked) => ranked.label);
  return [...choice];
}

/**
 * Explains a pass: C_x, the labels, then every method for all labels at once (one gradient computation for
 * all labels; with meta-methods, one forward pass per augmented input). The pass stays the caller's.
 */
export async function explainPass(classifier: Classifier, pass: ImagePass, request: PipelineRequest): Promise<ExplainedTensors> {
  const rule = detectionRuleFor(classifier, request.detection);
  const detected = detectedOf(pass, rule);
  const labels = labelsFor(request.labels, detected, pass);
  validateLabels(classifier, labels);
  if (labels.length === 0 || request.methods.length === 0) return { rule, detected, labels, results: [] };
  const explainRequest: ExplainRequest = {
    labels,
    methods: request.methods,
    detected: request.contrast ?? detected,
    ...(request.options === undefined ? {} : { options: request.options }),
    ...(request.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: request.memoryBudgetBytes }),
    ...(request.checkpoint === undefined ? {} : { checkpoint: request.checkpoint }),
  };
  const onProgress = request.onProgress;
  const meta = request.meta;
  const results =
    meta !== undefined && (meta.tta !== undefined || meta.smooth !== undefined)
      ? await explainWithMeta(
          classifier,
          pass.input,
          {
            ...explainRequest,
            ...(onProgress === undefined ? {} : { onProgress }),
            ...(request.onAugmentation === undefined ? {} : { onAugmentation: request.onAugmentation }),
          },
          meta,
        )
      : await explain(classifier, pass.input, pass.forward, {
          ...explainRequest,
          ...(onProgress === undefined
            ? {}
            : { onProgress: (method: MethodId, done: number, total: number) => onProgress(method, done, total) }),
        });
  return { rule, detected, labels, results };
}

/** One label's map of one method, as plain data. */
export interface ExplainedMap {
  method: MethodId;
  label: number;
  resolution: MethodMaps['resolution'];
  /** `[h, w]` of `normalized` and `raw` (feature or input resolution). */
  shape: [number, number];
  /** ReLU-ed then min-max normalised, row-major. */
  normalized: Float32Array;
  /** ReLU-ed, before normalisation (with `keepRaw`). */
  raw?: Float32Array;
  rawMin: number;
  rawMax: number;
  /** `normalized` upsampled bilinearly to `displaySize`, row-major (with `displaySize`). */
  display?: Float32Array;
  /** The method's extra numbers for this label (e.g. Integrated Gradients' completenessGap). */
  extras: Record<string, number>;
}

export interface ExplainedImage {
  /** The top `topK` predictions. */
  predictions: RankedClass[];
  rule: DetectionRule;
  detected: number[];
  labels: number[];
  /** Method-major: every label of the first method, then of the next. */
  maps: ExplainedMap[];
  /** How the maps were made, when worth saying (deduplicated). */
  notes: string[];
  /** Per method: its time, including the download of its maps, ms (the shared forward pass excluded). */
  methodMs: Partial<Record<MethodId, number>>;
}

export interface ImageRequest extends PipelineRequest {
  /** Predictions to return (default 5). */
  topK?: number;
  /** Also return the normalised maps upsampled to `[height, width]`. */
  displaySize?: [number, number];
  /** Also return the raw (ReLU-ed, unnormalised) maps. */
  keepRaw?: boolean;
}

/** {@link explainPass}, then every map downloaded as plain arrays; no tensor outlives the call. */
export async function explainImage(classifier: Classifier, pass: ImagePass, request: ImageRequest): Promise<ExplainedImage> {
  const explained = await explainPass(classifier, pass, request);
  const maps: ExplainedMap[] = [];
  const methodMs: Partial<Record<MethodId, number>> = {};
  try {
    for (const result of explained.results) {
      const started = performance.now();
      maps.push(...(await downloadMaps(result, explained.labels, request)));
      methodMs[result.method] = result.ms + (performance.now() - started);
    }
  } finally {
    explained.results.forEach(disposeMethodMaps);
  }
  return {
    predictions: topK(pass.probs, pass.logits, request.topK ?? 5),
    rule: explained.rule,
    detected: explained.detected,
    labels: explained.labels,
    maps,
    notes: [...new Set(explained.results.flatMap((result) => result.notes))],
    methodMs,
  };
}

async function downloadMaps(
  result: MethodMaps,
  labels: readonly number[],
  request: Pick<ImageRequest, 'displaySize' | 'keepRaw'>,
): Promise<ExplainedMap[]> {
  const [count, h, w] = result.normalized.shape;
  const display = request.displaySize === undefined ? null : upsampleMaps(result.normalized, request.displaySize);
  const [rawMax, rawMin] = tf.tidy(() => [tf.max(result.raw, [1, 2]), tf.min(result.raw, [1, 2])]);
  try {
    const [normalized, displayData, maxData, minData, raw] = await Promise.all([
      result.normalized.data() as Promise<Float32Array>,
      display === null ? Promise.resolve(null) : (display.data() as Promise<Float32Array>),
      rawMax!.data(),
      rawMin!.data(),
      request.keepRaw === true ? (result.raw.data() as Promise<Float32Array>) : Promise.resolve(null),
    ]);
    const [displayHeight, displayWidth] = request.displaySize ?? [0, 0];
    const displayPixels = displayHeight * displayWidth;
    return Array.from({ length: count }, (_, n) => {
      const extras: Record<string, number> = {};
      for (const [key, values] of Object.entries(result.extras)) {
        const value = values.length === count ? values[n] : values[0];
        if (value !== undefined) extras[key] = value;
      }
      return {
        method: result.method,
        label: labels[n]!,
        resolution: result.resolution,
        shape: [h, w] as [number, number],
        normalized: normalized.slice(n * h * w, (n + 1) * h * w),
        ...(raw === null ? {} : { raw: raw.slice(n * h * w, (n + 1) * h * w) }),
        rawMin: minData[n]!,
        rawMax: maxData[n]!,
        ...(displayData === null ? {} : { display: displayData.slice(n * displayPixels, (n + 1) * displayPixels) }),
        extras,
      };
    });
  } finally {
    tf.dispose([display, rawMax, rawMin].filter((tensor): tensor is tf.Tensor => tensor !== null && tensor !== undefined));
  }
}
