/**
 * FullGrad: Srinivas and Fleuret, Full-Gradient Representation for Neural Network Visualization, NeurIPS
 * 2019. For a piecewise-linear network (ReLU, max-pooling, BatchNormalization in inference mode) the
 * full-gradient decomposition (Eq. 3) is exact:
 *
 *   `S_c(x) = sum(dS_c/dx * x) + sum_l sum(dS_c/dz_l * b_l)`,
 *
 * where `z_l: [h_l, w_l, C_l]` is the output (pre-activation) of a layer with a bias and `b_l: [C_l]` its
 * (effective) bias, broadcast over space. The saliency map (Eq. 6) aggregates both terms:
 *
 *   `M_c = psi(dS_c/dx * x) + sum_l psi(dS_c/dz_l * b_l)`,  psi = abs, sum over channels, min-max
 *   normalise, bilinear upsampling to the input's `[H, W]`.
 *
 * Channel scaling. The paper's Eq. 6 applies psi per channel and sums; pytorch-grad-cam's FullGrad does the
 * same (`scale_accross_batch_and_channels`, then a sum over channels); the authors' code (idiap/fullgrad-saliency,
 * `_postProcess`) normalises each layer's `[C, h, w]` tensor jointly, then sums channels. Where paper and
 * code disagree the spec follows the authors' code, so `joint` is the default; `per-channel` reproduces
 * the paper and pytorch-grad-cam, and `summed` (abs, sum channels, then normalise) weighs every layer's
 * map equally.
 *
 * Bias-gradients: `dS/dz_l` for every tapped layer and `dS/dx` come from ONE backward pass of the whole
 * model, batched over labels (the input tiled N times, row n selecting label n with a one-hot product),
 * through the classifier's `logitsWithBiasTaps` (a zero `delta_l` added to each `z_l`, differentiated
 * w.r.t. the input and all deltas). Layers with a 2-D output (the head's Dense layers) are left out: their
 * bias-gradient map is spatially constant, 0 after normalisation (as in the authors' code, which keeps only
 * 4-D bias-gradients).
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../shared/errors';
import { upsampleMaps } from '../maps/filters';
import type { ExplainContext } from './context';
import { defineMethod } from './types';

/** How a `[N, h, w, C]` term becomes a `[N, h, w]` map in [0, 1] (see the module comment). */
export type FullGradScaling = 'summed' | 'joint' | 'per-channel';

/** The raw ingredients of FullGrad for N labels. */
export interface FullGradients {
  /** `dS_{labels[n]}/dx`: `[N, H, W, C]`. */
  inputGradients: tf.Tensor4D;
  /** One per tapped layer, in topological order. */
  taps: Array<{
    layer: string;
    /** `dS_{labels[n]}/dz_l`: `[N, h, w, C_l]`. */
    gradient: tf.Tensor4D;
    /** Effective bias `b_l`: `[C_l]`. */
    bias: tf.Tensor1D;
  }>;
}

/**
 * Input gradients and bias-gradients of the explained labels in one batched backward pass. Call inside
 * tf.tidy (the caller owns every tensor). Throws a `method-unavailable` StudioError when the classifier
 * cannot tap its biases.
 * @param labels default: the context's explained labels
 */
export function fullGradients(context: ExplainContext, labels: readonly number[] = context.labels): FullGradients {
  const adapter = context.adapter;
  if (adapter.biasTapsOf === undefined || adapter.logitsWithBiasTaps === undefined) {
    throw new StudioError(
      'method-unavailable',
      'FullGrad needs the bias of every layer; this model format does not expose them. The other methods still work.',
    );
  }
  const taps = adapter.biasTapsOf(context.input);
  const count = labels.length;
  const x = context.input; // [1, H, W, C]
  const tiled = tf.tile(x, [count, 1, 1, 1]) as tf.Tensor4D; // [N, H, W, C]
  const deltas = taps.map((tap) => tf.zeros([count, ...tap.shape]) as tf.Tensor4D); // [N, h, w, C_l] each
  const selector = context.labelSelector(labels); // [N, L]
  const objective = (...args: tf.Tensor[]): tf.Scalar => {
    const [input, ...tapped] = args as tf.Tensor4D[];
    return tf.sum(tf.mul(adapter.logitsWithBiasTaps!(input as tf.Tensor4D, tapped), selector));
  };
  const [inputGradients, ...gradients] = tf.grads(objective)([tiled, ...deltas]) as tf.Tensor4D[];
  return {
    inputGradients: inputGradients as tf.Tensor4D,
    taps: taps.map((tap, l) => ({ layer: tap.layer, gradient: gradients[l] as tf.Tensor4D, bias: tap.bias })),
  };
}

/** psi without the upsampling: `[N, h, w, C]` -> `[N, h, w]` in [0, 1] (0 for a constant term, never NaN). */
function scaleTerm(term: tf.Tensor4D, scaling: FullGradScaling): tf.Tensor3D {
  return tf.tidy(() => {
    const magnitude = tf.abs(term);
    const normalise = (t: tf.Tensor, axes: number[]) => {
      const min = tf.min(t, axes, true);
      return tf.divNoNan(tf.sub(t, min), tf.sub(tf.max(t, axes, true), min));
    };
    switch (scaling) {
      case 'summed':
        return normalise(tf.sum(magnitude, 3), [1, 2]) as tf.Tensor3D;
      case 'joint':
        return tf.sum(normalise(magnitude, [1, 2, 3]), 3) as tf.Tensor3D;
      case 'per-channel':
        return tf.sum(normalise(magnitude, [1, 2]), 3) as tf.Tensor3D;
    }
  });
}

/**
 * FullGrad maps, Eq. 6: `psi(dS/dx * x) + sum_l psi(dS/dz_l * b_l)`.
 * @returns `[N, H, W]`, non-negative; the caller owns it.
 */
export function fullGradMaps(
  context: ExplainContext,
  scaling: FullGradScaling = 'joint',
  labels: readonly number[] = context.labels,
): tf.Tensor3D {
  const [, height, width] = context.input.shape;
  if (labels.length === 0) return tf.zeros([0, height, width]);
  return tf.tidy(() => {
    const { inputGradients, taps } = fullGradients(context, labels);
    let total = scaleTerm(tf.mul(inputGradients, context.input) as tf.Tensor4D, scaling); // [N, H, W]
    for (const tap of taps) {
      const map = scaleTerm(tf.mul(tap.gradient, tap.bias) as tf.Tensor4D, scaling); // [N, h, w]
      const [, h, w] = map.shape;
      total = tf.add(total, h === height && w === width ? map : upsampleMaps(map, [height, width])) as tf.Tensor3D;
    }
    return total;
  });
}

/**
 * FullGrad (Srinivas and Fleuret, NeurIPS 2019, Eq. 6), one forward and one backward pass for all labels.
 * Needs a classifier that exposes its biases (ClassifierAdapter does, for Keras LayersModels).
 */
export const fullgrad = defineMethod('fullgrad', (context) => ({ maps: fullGradMaps(context) }));
