/**
 * Perturbation methods: Score-CAM (masked forward passes of the whole model) and Ablation-CAM (only the
 * head re-runs). Batched; every batch of forward passes serves all explained labels at once; progress
 * and cancellation between batches.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchSizer, yieldToEventLoop } from '../batching';
import { weightedSum } from '../maps/filters';
import type { ExplainContext } from './context';
import { defineMethod, type MethodControl } from './types';

/** Per-channel spatial range and variance of `A: [1, h, w, K]`, downloaded. */
async function channelStatistics(activations: tf.Tensor4D): Promise<{ range: Float32Array; variance: Float32Array }> {
  const [range, variance] = tf.tidy(() => {
    const max = tf.max(activations, [0, 1, 2]);
    const min = tf.min(activations, [0, 1, 2]);
    const { variance: channelVariance } = tf.moments(activations, [0, 1, 2]);
    return [tf.sub(max, min), channelVariance] as const;
  });
  try {
    return { range: (await range.data()) as Float32Array, variance: (await variance.data()) as Float32Array };
  } finally {
    range.dispose();
    variance.dispose();
  }
}

/** Indices of the `limit` largest values (all when limit is null). */
function largest(values: Float32Array, candidates: number[], limit: number | null): number[] {
  if (limit === null || limit >= candidates.length) return candidates;
  return [...candidates].sort((a, b) => (values[b] as number) - (values[a] as number) || a - b).slice(0, Math.max(0, limit));
}

/**
 * Scores of the explained labels for a batch of inputs: `[B, N]` under the head's probability (or the logit).
 * Call inside tidy.
 */
function labelScores(context: ExplainContext, inputs: tf.Tensor4D, use: 'probability' | 'logit'): tf.Tensor2D {
  const logits = context.adapter.logitsOf(inputs); // [B, L]
  const scores = use === 'logit' ? logits : context.adapter.probabilities(logits);
  return tf.matMul(scores, context.labelSelector(), false, true) as tf.Tensor2D; // [B, N]
}

/**
 * Score-CAM: Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural
 * Networks", CVPRW 2020, Eq. 5-8: `H^k = normalize(upsample(A^k))`, `s_k = score_c(x * H^k)` in
 * preprocessed space, `M = ReLU(sum_k w_k A^k)`. Upsampling is align-corners bilinear and the
 * normalisation adds 1e-8 to the denominator, as pytorch-grad-cam. Variants (options.scorecam.variant):
 * `probability` (w_k = p_c(x * H^k), the seed's benchmarks), `softmax-logits` (w = softmax_k S_c(x * H^k),
 * pytorch-grad-cam), `increase-of-confidence` (w_k = p_c(x * H^k) - p_c(0), the paper's Eq. 6).
 * Constant channels give the all-zero mask: their score is computed once. `maxChannels` keeps the
 * channels of largest spatial variance (Faster-Score-CAM); the others get weight 0.
 */
export const scorecam = defineMethod('scorecam', async (context: ExplainContext, control: MethodControl) => {
  const { variant, batchSize, maxChannels } = context.options.scorecam;
  const [, , , channelCount] = context.activations.shape;
  const [, height, width] = context.input.shape;
  const labelCount = context.labels.length;
  const { range, variance } = await channelStatistics(context.activations);
  const all = Array.from({ length: channelCount }, (_, k) => k);
  const kept = largest(variance, all, maxChannels);
  const varying = kept.filter((k) => (range[k] as number) > 0);
  const constant = kept.filter((k) => !((range[k] as number) > 0));
  const use = variant === 'softmax-logits' ? 'logit' : 'probability';
  const scores = new Float32Array(channelCount * labelCount); // [K, N]
  const withBaseline = constant.length > 0 || variant === 'increase-of-confidence';
  // Progress counts masked inputs (the batch size is chosen as the batches go, see core/batching.ts).
  const total = varying.length + (withBaseline ? 1 : 0);
  let done = 0;
  let forwardPasses = 0;
  const download = async (tensor: tf.Tensor2D): Promise<Float32Array> => {
    try {
      return (await tensor.data()) as Float32Array;
    } finally {
      tensor.dispose();
    }
  };

  let baseline: Float32Array | null = null; // scores of the all-zero input [N]
  if (withBaseline) {
    await yieldToEventLoop();
    control.checkpoint();
    baseline = await download(tf.tidy(() => labelScores(context, tf.zerosLike(context.input), use)));
    forwardPasses += 1;
    control.progress((done += 1), total);
    for (const k of constant) scores.set(baseline, k * labelCount);
  }
  const sizer = new BatchSizer({
    requested: batchSize,
    what: 'Score-CAM',
    measuredOn: context.adapter,
    ...(context.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: context.memoryBudgetBytes }),
  });
  for (let start = 0; start < varying.length;) {
    await yieldToEventLoop();
    control.checkpoint();
    const channels = varying.slice(start, start + sizer.next(varying.length - start));
    const batchScores = await sizer.run(
      channels.length,
      () => {
        const selected = tf.gather(context.activations, tf.tensor1d(channels, 'int32'), 3); // [1, h, w, b]
        const upsampled = tf.image.resizeBilinear(selected as tf.Tensor4D, [height, width], true); // [1, H, W, b]
        const masks = tf.transpose(upsampled, [3, 1, 2, 0]); // [b, H, W, 1]
        const min = tf.min(masks, [1, 2, 3], true);
        const max = tf.max(masks, [1, 2, 3], true);
        const normalized = tf.div(tf.sub(masks, min), tf.add(tf.sub(max, min), 1e-8));
        return labelScores(context, tf.mul(context.input, normalized) as tf.Tensor4D, use); // [b, N]
      },
      async (tensor) => (await tensor.data()) as Float32Array,
    );
    channels.forEach((k, index) => scores.set(batchScores.subarray(index * labelCount, (index + 1) * labelCount), k * labelCount));
    start += channels.length;
    forwardPasses += 1;
    control.progress((done += channels.length), total);
  }

  const weights = new Float32Array(labelCount * channelCount); // [N, K], 0 for channels not kept
  for (let n = 0; n < labelCount; n += 1) {
    if (variant === 'softmax-logits') {
      let max = -Infinity;
      for (const k of kept) max = Math.max(max, scores[k * labelCount + n] as number);
      let total = 0;
      for (const k of kept) total += Math.exp((scores[k * labelCount + n] as number) - max);
      for (const k of kept) weights[n * channelCount + k] = Math.exp((scores[k * labelCount + n] as number) - max) / total;
    } else {
      const offset = variant === 'increase-of-confidence' ? ((baseline as Float32Array)[n] as number) : 0;
      for (const k of kept) weights[n * channelCount + k] = (scores[k * labelCount + n] as number) - offset;
    }
  }
  const note = sizer.note();
  return {
    maps: tf.tidy(() => weightedSum(context.activations, tf.tensor2d(weights, [labelCount, channelCount]))),
    extras: { forwardPasses: [forwardPasses] },
    ...(note === null ? {} : { notes: [note] }),
  };
});

/**
 * Ablation-CAM: Desai and Ramaswamy, WACV 2020, Eq. 3: `w_k = (S_c - S_c(A with channel k zeroed)) / S_c`.
 * Only the head re-runs: for a GAP -> Dense head in closed form (`S_c - S_c^k = W[k, c] mean_ij A^k`),
 * otherwise batched over channels.
 */
export const ablationcam = defineMethod('ablationcam', async (context: ExplainContext, control: MethodControl) => {
  const channelCount = context.activations.shape[3];
  const labelCount = context.labels.length;
  const original = tf.tidy(() => tf.matMul(context.logits, context.labelSelector(), false, true)); // [1, N]
  try {
    if (context.adapter.headKind === 'gap-dense') {
      control.progress(1, 1);
      return {
        maps: tf.tidy(() => {
          const kernel = context.adapter.classWeights as tf.Tensor2D; // [K, L]
          const perLabel = tf.matMul(context.labelSelector(), kernel, false, true); // [N, K]
          const drop = tf.mul(perLabel, tf.reshape(tf.mean(context.activations, [0, 1, 2]), [1, channelCount])); // [N, K]
          return weightedSum(context.activations, tf.div(drop, tf.transpose(original)) as tf.Tensor2D);
        }),
      };
    }
    const batchSize = context.options.ablation.batchSize;
    const ablated = new Float32Array(channelCount * labelCount); // [K, N]
    const batches = Math.ceil(channelCount / batchSize);
    for (let start = 0, batch = 0; start < channelCount; start += batchSize, batch += 1) {
      await yieldToEventLoop();
      control.checkpoint();
      const size = Math.min(batchSize, channelCount - start);
      const scores = tf.tidy(() => {
        const keep = tf.sub(1, tf.oneHot(tf.range(start, start + size, 1, 'int32'), channelCount)); // [b, K]
        const masked = tf.mul(context.activations, tf.reshape(keep, [size, 1, 1, channelCount])) as tf.Tensor4D; // [b, h, w, K]
        return tf.matMul(context.adapter.headLogits(masked), context.labelSelector(), false, true); // [b, N]
      });
      try {
        ablated.set((await scores.data()) as Float32Array, start * labelCount);
      } finally {
        scores.dispose();
      }
      control.progress(batch + 1, batches);
    }
    return {
      maps: tf.tidy(() => {
        const ablatedScores = tf.transpose(tf.tensor2d(ablated, [channelCount, labelCount])); // [N, K]
        const weights = tf.div(tf.sub(tf.transpose(original), ablatedScores), tf.transpose(original)) as tf.Tensor2D;
        return weightedSum(context.activations, weights);
      }),
    };
  } finally {
    original.dispose();
  }
});
