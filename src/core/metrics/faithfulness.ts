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
import { BatchSizer, yieldToEventLoop } from '../batching';
import type { Classifier } from '../model/classifier';
import { areaUnderCurve, type SaliencyCurves } from '../../shared/metrics/scores';

export interface MaskedProbabilities {
  /** `p(x * M_n)`, row-major `[N, L]`. */
  kept: Float32Array;
  /** `p(x * (1 - M_n))`, row-major `[N, L]`. */
  removed: Float32Array;
  /** Set when memory made the batches smaller than asked (core/batching.ts). */
  note?: string;
}

/**
 * The masked forward passes of the metrics: for each map `M_n` (normalised to [0, 1], at the input's size),
 * the probabilities of `x * M_n` and `x * (1 - M_n)`, in batches of at most `batchSize` inputs (fewer when
 * memory or time per batch says so: core/batching.ts).
 * @param input the preprocessed image `[1, H, W, C]` (not disposed)
 * @param maps `[N, H, W]` in [0, 1] (not disposed)
 * @param checkpoint called between batches (throw to cancel); @param onProgress after each batch.
 */
export async function maskedProbabilities(
  classifier: Classifier,
  input: tf.Tensor4D,
  maps: tf.Tensor3D,
  options: {
    batchSize?: number;
    memoryBudgetBytes?: number;
    checkpoint?: () => void;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<MaskedProbabilities> {
  const [count, height, width] = maps.shape;
  const [, inputHeight, inputWidth] = input.shape;
  if (height !== inputHeight || width !== inputWidth)
    throw new RangeError(`maps are ${height}x${width}, the input is ${inputHeight}x${inputWidth}`);
  const sizer = new BatchSizer({
    requested: Math.max(1, Math.floor(options.batchSize ?? 16)),
    what: 'The faithfulness metrics',
    measuredOn: classifier,
    ...(options.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: options.memoryBudgetBytes }),
  });
  const labels = classifier.numClasses;
  const kept = new Float32Array(count * labels);
  const removed = new Float32Array(count * labels);
  const total = 2 * count;
  // Row r of the virtual batch: map r >> 1, kept (even) or removed (odd).
  for (let start = 0; start < total;) {
    await yieldToEventLoop();
    options.checkpoint?.();
    const end = start + sizer.next(total - start);
    const values = await sizer.run(
      end - start,
      () => {
        const rows = tf.range(start, end, 1, 'int32');
        const mapIndex = tf.cast(tf.floorDiv(rows, 2), 'int32');
        const isRemoved = tf.cast(tf.mod(rows, 2), 'float32').reshape([-1, 1, 1]);
        const selected = tf.gather(maps, mapIndex); // [b, H, W]
        const mask = tf.add(tf.mul(selected, tf.sub(1, isRemoved)), tf.mul(tf.sub(1, selected), isRemoved));
        const masked = tf.mul(input, tf.expandDims(mask, -1)) as tf.Tensor4D; // [b, H, W, C]
        const { activations, logits } = classifier.forward(masked);
        activations.dispose();
        return classifier.probabilities(logits);
      },
      async (tensor) => (await tensor.data()) as Float32Array,
    );
    for (let row = start; row < end; row += 1) {
      const target = row % 2 === 0 ? kept : removed;
      target.set(values.subarray((row - start) * labels, (row - start + 1) * labels), (row >> 1) * labels);
    }
    options.onProgress?.(end, total);
    start = end;
  }
  const note = sizer.note();
  return { kept, removed, ...(note === null ? {} : { note }) };
}

/**
 * Deletion and insertion curves (Petsiuk, Das, Saenko, RISE, BMVC 2018): pixels in decreasing order of the map
 * (ties: row-major order) are removed from the image (set to 0 in preprocessed space) or added to an all-zero
 * image, in `steps` equal steps; the curve is the probability of `label` at each step.
 * @param map `[H, W]` at the input's size (not disposed); @param input `[1, H, W, C]` (not disposed)
 */
export async function saliencyCurves(
  classifier: Classifier,
  input: tf.Tensor4D,
  map: tf.Tensor2D,
  label: number,
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
      await yieldToEventLoop();
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
  return {
    fractions,
    deletion,
    insertion,
    deletionAuc: areaUnderCurve(fractions, deletion),
    insertionAuc: areaUnderCurve(fractions, insertion),
  };
}
