/**
 * Gradient-based methods: every one reads the shared gradients `g = dS_c/dA` (`[N, h, w, K]`) of the
 * context and adds only its own weighting. Formulas follow pytorch-grad-cam 1.5.5 (the parity reference).
 */
import * as tf from '@tensorflow/tfjs';
import { weightedSum } from '../maps/filters';
import type { ExplainContext } from './context';
import type { MethodId } from '../../shared/methods';
import { defineMethod, type CamMethod } from './types';

const EPSILON = 1e-7;

interface GradientMethod {
  /** Maps `[N, h, w]` from activations `A: [1, h, w, K]` and gradients `g: [N, h, w, K]`. Runs in tidy. */
  fromGradients(activations: tf.Tensor4D, gradients: tf.Tensor4D, context: ExplainContext): tf.Tensor3D;
  /** Which gradients: the plain `dS_c/dA` (default) or the method's own objective's. */
  gradientsOf?(context: ExplainContext): tf.Tensor4D;
}

/** A gradient method from its own weighting of the shared gradients (its descriptor: src/shared/methods.ts). */
function gradientMethod(id: MethodId, { fromGradients, gradientsOf }: GradientMethod): CamMethod {
  return defineMethod(id, (context) => ({
    maps: tf.tidy(() =>
      fromGradients(context.activations, gradientsOf === undefined ? context.gradients() : gradientsOf(context), context),
    ),
  }));
}

/** Sum over channels: `[N, h, w, K]` -> `[N, h, w]`. */
const sumChannels = (maps: tf.Tensor4D): tf.Tensor3D => tf.sum(maps, 3) as tf.Tensor3D;

/** Grad-CAM's weights `alpha_k = mean_ij g_ij^k`: `[N, K]` from gradients `[N, h, w, K]`. */
export function gradCamWeights(gradients: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(gradients, [1, 2]) as tf.Tensor2D;
}

/** Grad-CAM: Selvaraju et al., ICCV 2017, Eq. 1-2: `alpha_k = mean_ij g_ij^k`, `M = sum_k alpha_k A^k`. */
export const gradcam = gradientMethod('gradcam', {
  fromGradients: (activations, gradients) => weightedSum(activations, gradCamWeights(gradients)),
});

/**
 * Grad-CAM++: Chattopadhyay et al., WACV 2018, Eq. 19 with the exp(S) closed form (as pytorch-grad-cam):
 * `a_ij^k = g^2 / (2 g^2 + sum_ab A_ab^k g^3 + eps)` (0 where g == 0), `w_k = sum_ij a_ij^k ReLU(g_ij^k)`.
 */
export const gradcampp = gradientMethod('gradcampp', {
  fromGradients: (activations, gradients) => {
    const squared = tf.square(gradients);
    const cubed = tf.mul(squared, gradients);
    const activationSums = tf.sum(activations, [1, 2], true); // [1, 1, 1, K]
    const alpha = tf.div(squared, tf.add(tf.add(tf.mul(squared, 2), tf.mul(activationSums, cubed)), 1e-6));
    const alphaMasked = tf.where(tf.notEqual(gradients, 0), alpha, tf.zerosLike(alpha));
    const weights = tf.sum(tf.mul(alphaMasked, tf.relu(gradients)), [1, 2]) as tf.Tensor2D; // [N, K]
    return weightedSum(activations, weights);
  },
});

/**
 * XGrad-CAM: Fu et al., "Axiom-based Grad-CAM", BMVC 2020, Eq. 13:
 * `w_k = sum_ij (A_ij^k / (sum_ab A_ab^k + eps)) g_ij^k`.
 */
export const xgradcam = gradientMethod('xgradcam', {
  fromGradients: (activations, gradients) => {
    const activationSums = tf.sum(activations, [1, 2], true); // [1, 1, 1, K]
    const weights = tf.sum(tf.mul(gradients, tf.div(activations, tf.add(activationSums, EPSILON))), [1, 2]) as tf.Tensor2D;
    return weightedSum(activations, weights);
  },
});

/** HiRes-CAM: Draelos and Carin, 2020, Eq. 4: `M = sum_k g^k * A^k` (element-wise, no pooling). */
export const hirescam = gradientMethod('hirescam', {
  fromGradients: (activations, gradients) => sumChannels(tf.mul(gradients, activations) as tf.Tensor4D),
});

/** Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise): `M = sum_k ReLU(g^k * A^k)`. */
export const gradcamElementwise = gradientMethod('gradcam-elementwise', {
  fromGradients: (activations, gradients) => sumChannels(tf.relu(tf.mul(gradients, activations)) as tf.Tensor4D),
});

/** Layer-CAM: Jiang et al., IEEE TIP 2021, Eq. 5-6: `M = sum_k ReLU(g^k) * A^k`. */
export const layercam = gradientMethod('layercam', {
  fromGradients: (activations, gradients) => sumChannels(tf.mul(tf.relu(gradients), activations) as tf.Tensor4D),
});

/** Coefficient rows of `S_u - mean_{n in C_x \ {u}} S_n`. */
function minmaxObjective(context: ExplainContext): Map<number, number>[] {
  return context.labels.map((label) => {
    const others = context.othersOf(label);
    const row = new Map<number, number>(others.map((other) => [other, -1 / Math.max(others.length, 1)]));
    row.set(label, (row.get(label) ?? 0) + 1);
    return row;
  });
}

/**
 * MinMax-Grad-CAM: David, Pedrini, Dias, VISAPP 2022, Eq. 6-7: objective
 * `J_u = S_u - (1 / max(c - 1, 1)) sum_{n in C_x \ {u}} S_n`, `w_k^u = sum_ij dJ_u/dA_ij^k` (a sum, not a mean).
 */
export const minmaxGradcam = gradientMethod('minmax-gradcam', {
  gradientsOf: (context) => context.combineGradients(minmaxObjective(context)),
  fromGradients: (activations, gradients) => weightedSum(activations, tf.sum(gradients, [1, 2]) as tf.Tensor2D),
});

/**
 * D-MinMax-Grad-CAM: David, Pedrini, Dias, CCIS 2023, Eq. 8: with `J+_u = S_u`,
 * `J-_u = mean_{n in C_x \ {u}} S_n`, `Jbg = mean_{n in C_x} S_n` and their gradients G+, G-, Gbg:
 * `w_k^u = sum_ij [ReLU(G+_ijk) - ReLU(G-_ijk) + min(0, Gbg_ijk)]` (rectified per position, then pooled).
 */
export const dMinmaxGradcam = gradientMethod('d-minmax-gradcam', {
  fromGradients: (activations, gradients, context) => {
    const others = context.combineGradients(
      context.labels.map((label) => {
        const labels = context.othersOf(label);
        return new Map(labels.map((other) => [other, 1 / Math.max(labels.length, 1)]));
      }),
    );
    const background = context.combineGradients([
      new Map(context.detected.map((label) => [label, 1 / Math.max(context.detected.length, 1)])),
    ]); // [1, h, w, K]
    const rectified = tf.add(tf.sub(tf.relu(gradients), tf.relu(others)), tf.minimum(background, 0));
    return weightedSum(activations, tf.sum(rectified, [1, 2]) as tf.Tensor2D);
  },
});
