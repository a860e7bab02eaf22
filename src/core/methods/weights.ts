/**
 * Weights-based methods: maps are `M_u = sum_k w_k^u A^k` with weights read off the Dense kernel
 * `W: [K, L]` of a `GAP -> Dense` head (spec "Weights-based"). Only the weights differ per method.
 */
import * as tf from '@tensorflow/tfjs';
import { weightedSum } from '../maps/filters';
import type { ExplainContext } from './context';
import { defineMethod } from './types';

/** `[N, K]`: row n = `sum_l rows[n][l] W[:, l]`. Call inside tidy. */
function kernelCombination(context: ExplainContext, rows: ReadonlyArray<ReadonlyMap<number, number>>): tf.Tensor2D {
  const kernel = context.adapter.classWeights as tf.Tensor2D; // [K, L]
  return tf.matMul(context.labelCombination(rows), kernel, false, true) as tf.Tensor2D; // [N, K]
}

/** `mean_{n in others} W[:, n]` as coefficient rows (empty -> 0). */
const meanOf = (labels: readonly number[]): Map<number, number> => new Map(labels.map((label) => [label, 1 / Math.max(labels.length, 1)]));

/** CAM's weights `w_k^c = W[k, c]`, `[N, K]` (one row per explained label). Call inside tidy. */
export function camWeights(context: ExplainContext): tf.Tensor2D {
  return kernelCombination(
    context,
    context.labels.map((label) => new Map([[label, 1]])),
  );
}

/** MinMax-CAM's weights `w_k^u = W[k, u] - mean_{n in C_x \ {u}} W[k, n]`, `[N, K]`. Call inside tidy. */
export function minmaxCamWeights(context: ExplainContext): tf.Tensor2D {
  const rows = context.labels.map((label) => {
    const row = new Map<number, number>();
    for (const [other, weight] of meanOf(context.othersOf(label))) row.set(other, -weight);
    row.set(label, (row.get(label) ?? 0) + 1);
    return row;
  });
  return kernelCombination(context, rows);
}

/**
 * CAM: Zhou, Khosla, Lapedriza, Oliva, Torralba, "Learning Deep Features for Discriminative
 * Localization", CVPR 2016, Eq. 2: `M_c = sum_k W[k, c] A^k`.
 */
export const cam = defineMethod('cam', (context) => ({
  maps: tf.tidy(() => weightedSum(context.activations, camWeights(context))),
}));

/**
 * MinMax-CAM: David, Pedrini, Dias, "MinMax-CAM: Improving focus of CAM-based visualization techniques
 * in multi-label problems", VISAPP 2022, Eq. 5:
 * `w_k^u = W[k, u] - (1 / max(c - 1, 1)) sum_{n in C_x \ {u}} W[k, n]`.
 * (For a label outside C_x the mean is over all of C_x, i.e. the divisor is the number of others.)
 */
export const minmaxCam = defineMethod('minmax-cam', (context) => ({
  maps: tf.tidy(() => weightedSum(context.activations, minmaxCamWeights(context))),
}));

/**
 * D-MinMax-CAM: David, Pedrini, Dias, CCIS 2023 (extended MinMax-CAM), Eq. 7:
 * `w_k^u = ReLU(W[k, u]) - ReLU(sum_{n in C_x \ {u}} W[k, n]) / max(c - 1, 1) + min(0, sum_{n in C_x} W[k, n]) / max(c, 1)`.
 * As in the authors' code, the ReLU applies to the summed weights of the other labels.
 */
export const dMinmaxCam = defineMethod('d-minmax-cam', (context) => ({
  maps: tf.tidy(() => {
    const own = kernelCombination(
      context,
      context.labels.map((label) => new Map([[label, 1]])),
    );
    const others = kernelCombination(
      context,
      context.labels.map((label) => {
        const labels = context.othersOf(label);
        return new Map(labels.map((other) => [other, 1 / Math.max(labels.length, 1)]));
      }),
    );
    const detected =
      context.detected.length === 0
        ? tf.zeros(own.shape)
        : kernelCombination(context, [new Map(context.detected.map((label) => [label, 1 / Math.max(context.detected.length, 1)]))]); // [1, K]
    // ReLU(sum others)/(c-1) == ReLU(mean others): the divisor is positive.
    const weights = tf.add(tf.sub(tf.relu(own), tf.relu(others)), tf.minimum(detected, 0)) as tf.Tensor2D;
    return weightedSum(context.activations, weights);
  }),
}));
