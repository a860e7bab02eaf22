/**
 * Faithfulness metrics of explanation maps (specification: ../shared/docs/methods-and-metrics.md,
 * "Faithfulness metrics of the seed"; David, Pedrini, Dias, MinMax-CAM, VISAPP 2022, Table 2).
 *
 * For an explained detection `(i, c)` of image `x` with detected set `C_i`:
 * `Y = p(x)`, `O = p(x * M_ic)` (only the explained region kept), `Obar = p(x * (1 - M_ic))` (the region
 * removed), vectors over all labels, masks applied in preprocessed space (zero = the dataset mean colour), and
 *
 *   %IC  = 1[Y_c < O_c]                                         (higher is better)
 *   %AD  = max(0, Y_c - O_c) / Y_c                               (lower)
 *   %AR  = max(0, Y_c - Obar_c) / Y_c                            (higher)
 *   %ADO = mean_{d in C_i \ {c}} max(0, Y_d - O_d) / Y_d         (higher; needs |C_i| >= 2)
 *   %ARO = mean_{d in C_i \ {c}} max(0, Y_d - Obar_d) / Y_d      (lower; needs |C_i| >= 2)
 *   F1+  = F1(AR, ADO)   (higher),   F1- = F1(AD, ARO)   (lower),   F_beta(a, b) = (1 + b^2) a b / (b^2 b + a)
 *
 * Aggregation (the authors' code): per class, the sum over that class's detections divided by their number,
 * times 100; the report is the macro average over the classes that have detections, with support counts.
 *
 * The pure parts work on plain arrays; {@link maskedProbabilities} runs the masked forward passes (batched).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../model/classifier';

/** `F_beta(a, b) = (1 + beta^2) a b / (beta^2 b + a)`; 0 where the denominator is 0 (never NaN). */
export function fBeta(a: number, b: number, beta = 1): number {
  const denominator = beta * beta * b + a;
  return denominator === 0 ? 0 : ((1 + beta * beta) * a * b) / denominator;
}

/** The relative drop `max(0, y - o) / y`; 0 when `y` is 0 (a label the model gives no probability cannot drop). */
export function relativeDrop(y: number, o: number): number {
  if (!(y > 0)) return 0;
  return Math.max(0, y - o) / y;
}

export const FAITHFULNESS_METRICS = ['ic', 'ad', 'ar', 'ado', 'aro', 'f1Plus', 'f1Minus'] as const;
export type FaithfulnessMetric = (typeof FAITHFULNESS_METRICS)[number];

/** Which direction is better, per metric (for the report's "best" marks and the charts' arrows). */
export const HIGHER_IS_BETTER: Record<FaithfulnessMetric, boolean> = {
  ic: true, ad: false, ar: true, ado: true, aro: false, f1Plus: true, f1Minus: false,
};

/** The metrics of one explained detection, as fractions in [0, 1]; the "others" metrics are null with one detection. */
export interface DetectionScores {
  ic: number;
  ad: number;
  ar: number;
  ado: number | null;
  aro: number | null;
  f1Plus: number | null;
  f1Minus: number | null;
}

/**
 * The per-detection metrics of label `label` from the probability vectors `Y` (original), `O` (map kept) and
 * `Obar` (map removed), all of length L; `detected` is the image's detected set `C_i` (it should hold `label`).
 */
export function detectionScores(
  original: ArrayLike<number>, kept: ArrayLike<number>, removed: ArrayLike<number>, label: number, detected: readonly number[],
): DetectionScores {
  const y = original[label]!;
  const ic = y < kept[label]! ? 1 : 0;
  const ad = relativeDrop(y, kept[label]!);
  const ar = relativeDrop(y, removed[label]!);
  const others = detected.filter((d) => d !== label);
  if (others.length === 0) return { ic, ad, ar, ado: null, aro: null, f1Plus: null, f1Minus: null };
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  const ado = mean(others.map((d) => relativeDrop(original[d]!, kept[d]!)));
  const aro = mean(others.map((d) => relativeDrop(original[d]!, removed[d]!)));
  return { ic, ad, ar, ado, aro, f1Plus: fBeta(ar, ado), f1Minus: fBeta(ad, aro) };
}

/** One metric aggregated: per class (percent, null without support), the macro average and the supports. */
export interface AggregatedMetric {
  perClass: Array<number | null>;
  support: number[];
  /** Mean of the per-class values over the classes with support; null when none has. */
  macro: number | null;
}

export type FaithfulnessReport = Record<FaithfulnessMetric, AggregatedMetric>;

/** Per-class then macro aggregation of detection scores, exactly as the specification's authors' code. */
export class FaithfulnessAggregator {
  private readonly sums: Record<FaithfulnessMetric, Float64Array>;
  private readonly counts: Record<FaithfulnessMetric, Int32Array>;

  constructor(readonly numClasses: number) {
    this.sums = Object.fromEntries(FAITHFULNESS_METRICS.map((m) => [m, new Float64Array(numClasses)])) as Record<FaithfulnessMetric, Float64Array>;
    this.counts = Object.fromEntries(FAITHFULNESS_METRICS.map((m) => [m, new Int32Array(numClasses)])) as Record<FaithfulnessMetric, Int32Array>;
  }

  add(label: number, scores: DetectionScores): void {
    if (!Number.isInteger(label) || label < 0 || label >= this.numClasses) throw new RangeError(`label ${label} is not in [0, ${this.numClasses})`);
    for (const metric of FAITHFULNESS_METRICS) {
      const value = scores[metric];
      if (value === null) continue;
      if (!Number.isFinite(value)) throw new RangeError(`${metric} of label ${label} is ${value}`);
      this.sums[metric][label] = this.sums[metric][label]! + value;
      this.counts[metric][label] = this.counts[metric][label]! + 1;
    }
  }

  report(): FaithfulnessReport {
    const out = {} as FaithfulnessReport;
    for (const metric of FAITHFULNESS_METRICS) {
      const support = Array.from(this.counts[metric]);
      const perClass = support.map((count, k) => (count === 0 ? null : (100 * this.sums[metric][k]!) / count));
      const present = perClass.filter((value): value is number => value !== null);
      out[metric] = { perClass, support, macro: present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length };
    }
    return out;
  }
}

export interface MaskedProbabilities {
  /** `p(x * M_n)`, row-major `[N, L]`. */
  kept: Float32Array;
  /** `p(x * (1 - M_n))`, row-major `[N, L]`. */
  removed: Float32Array;
}

/**
 * The masked forward passes of the metrics: for each map `M_n` (normalised to [0, 1], at the input's size),
 * the probabilities of `x * M_n` and `x * (1 - M_n)`, in batches of `batchSize` inputs.
 * @param input the preprocessed image `[1, H, W, C]` (not disposed)
 * @param maps `[N, H, W]` in [0, 1] (not disposed)
 * @param checkpoint called between batches (throw to cancel); @param onProgress after each batch.
 */
export async function maskedProbabilities(
  classifier: Classifier, input: tf.Tensor4D, maps: tf.Tensor3D,
  options: { batchSize?: number; checkpoint?: () => void; onProgress?: (done: number, total: number) => void } = {},
): Promise<MaskedProbabilities> {
  const [count, height, width] = maps.shape;
  const [, inputHeight, inputWidth] = input.shape;
  if (height !== inputHeight || width !== inputWidth) throw new RangeError(`maps are ${height}x${width}, the input is ${inputHeight}x${inputWidth}`);
  const batchSize = Math.max(2, Math.floor(options.batchSize ?? 16));
  const labels = classifier.numClasses;
  const kept = new Float32Array(count * labels);
  const removed = new Float32Array(count * labels);
  const total = 2 * count;
  // Row r of the virtual batch: map r >> 1, kept (even) or removed (odd).
  for (let start = 0; start < total; start += batchSize) {
    options.checkpoint?.();
    const end = Math.min(total, start + batchSize);
    const probabilities = tf.tidy(() => {
      const rows = tf.range(start, end, 1, 'int32');
      const mapIndex = tf.cast(tf.floorDiv(rows, 2), 'int32');
      const isRemoved = tf.cast(tf.mod(rows, 2), 'float32').reshape([-1, 1, 1]);
      const selected = tf.gather(maps, mapIndex); // [b, H, W]
      const mask = tf.add(tf.mul(selected, tf.sub(1, isRemoved)), tf.mul(tf.sub(1, selected), isRemoved));
      const masked = tf.mul(input, tf.expandDims(mask, -1)) as tf.Tensor4D; // [b, H, W, C]
      const { activations, logits } = classifier.forward(masked);
      activations.dispose();
      return classifier.probabilities(logits);
    });
    let values: Float32Array;
    try {
      values = (await probabilities.data()) as Float32Array;
    } finally {
      probabilities.dispose();
    }
    for (let row = start; row < end; row += 1) {
      const target = row % 2 === 0 ? kept : removed;
      target.set(values.subarray((row - start) * labels, (row - start + 1) * labels), (row >> 1) * labels);
    }
    options.onProgress?.(end, total);
  }
  return { kept, removed };
}

/** A deletion or insertion curve: the label's probability at each fraction of pixels removed / added. */
export interface SaliencyCurves {
  fractions: number[];
  deletion: number[];
  insertion: number[];
  /** Trapezoidal areas under the curves over fractions in [0, 1] (deletion: lower is better; insertion: higher). */
  deletionAuc: number;
  insertionAuc: number;
}

/** Trapezoidal area under `ys` over `xs`. */
export function areaUnderCurve(xs: readonly number[], ys: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < xs.length; i += 1) area += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
  return area;
}

/**
 * Deletion and insertion curves (Petsiuk, Das, Saenko, RISE, BMVC 2018): pixels in decreasing order of the map
 * (ties: row-major order) are removed from the image (set to 0 in preprocessed space) or added to an all-zero
 * image, in `steps` equal steps; the curve is the probability of `label` at each step.
 * @param map `[H, W]` at the input's size (not disposed); @param input `[1, H, W, C]` (not disposed)
 */
export async function saliencyCurves(
  classifier: Classifier, input: tf.Tensor4D, map: tf.Tensor2D, label: number,
  options: { steps?: number; batchSize?: number; checkpoint?: () => void } = {},
): Promise<SaliencyCurves> {
  const steps = Math.max(1, Math.floor(options.steps ?? 16));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 16));
  const [height, width] = map.shape;
  const pixels = height * width;
  const fractions = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  // rank[p] = position of pixel p in decreasing order of the map.
  const rank = tf.tidy(() => {
    const { indices } = tf.topk(tf.reshape(map, [pixels]), pixels, true);
    return tf.scatterND(tf.expandDims(indices, 1), tf.range(0, pixels, 1, 'int32'), [pixels]).reshape([height, width, 1]);
  });
  const probabilities: number[] = [];
  try {
    const total = 2 * fractions.length; // deletion rows, then insertion rows
    for (let start = 0; start < total; start += batchSize) {
      options.checkpoint?.();
      const end = Math.min(total, start + batchSize);
      const batch = tf.tidy(() => {
        const rows: tf.Tensor4D[] = [];
        for (let row = start; row < end; row += 1) {
          const deletion = row < fractions.length;
          const count = Math.round(fractions[deletion ? row : row - fractions.length]! * pixels);
          const top = tf.cast(tf.less(rank, count), 'float32'); // [H, W, 1]: 1 on the `count` highest pixels
          const mask = deletion ? tf.sub(1, top) : top;
          rows.push(tf.mul(input, tf.expandDims(mask, 0)) as tf.Tensor4D);
        }
        const { activations, logits } = classifier.forward(tf.concat(rows, 0));
        activations.dispose();
        return tf.squeeze(tf.slice(classifier.probabilities(logits), [0, label], [-1, 1]), [1]);
      });
      try {
        probabilities.push(...(await batch.data()));
      } finally {
        batch.dispose();
      }
    }
  } finally {
    rank.dispose();
  }
  const deletion = probabilities.slice(0, fractions.length);
  const insertion = probabilities.slice(fractions.length);
  return { fractions, deletion, insertion, deletionAuc: areaUnderCurve(fractions, deletion), insertionAuc: areaUnderCurve(fractions, insertion) };
}
