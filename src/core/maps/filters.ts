/**
 * Post-processing of maps, shared by every method (spec: "Every map is ReLU-ed then normalised, at
 * feature resolution; upsample (bilinear) only for display, masking and evaluation").
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Min-max normalisation over the spatial axes, 0 where max == min (never NaN).
 * @param maps `[N, h, w]`
 * @returns `[N, h, w]` in [0, 1]
 */
export function normalizeMaps(maps: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const min = tf.min(maps, [1, 2], true); // [N, 1, 1]
    const max = tf.max(maps, [1, 2], true); // [N, 1, 1]
    return tf.divNoNan(tf.sub(maps, min), tf.sub(max, min)) as tf.Tensor3D;
  });
}

/**
 * Bilinear upsampling (half-pixel centres, as image libraries resize) for display and masking.
 * @param maps `[N, h, w]`
 * @param size `[H, W]`
 * @returns `[N, H, W]`
 */
export function upsampleMaps(maps: tf.Tensor3D, size: [number, number]): tf.Tensor3D {
  return tf.tidy(() => {
    const images = tf.expandDims(maps, -1) as tf.Tensor4D; // [N, h, w, 1]
    const resized = tf.image.resizeBilinear(images, size, false, true); // [N, H, W, 1]
    return tf.squeeze(resized, [3]) as tf.Tensor3D;
  });
}

/**
 * Weighted sum of feature maps per label: `M_n = sum_k weights[n, k] A^k`.
 * @param activations `[1, h, w, K]`
 * @param weights `[N, K]`
 * @returns `[N, h, w]`
 */
export function weightedSum(activations: tf.Tensor4D, weights: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [, h, w, k] = activations.shape;
    const flat = tf.reshape(activations, [h * w, k]); // [hw, K]
    const maps = tf.matMul(weights, flat, false, true); // [N, hw]
    return tf.reshape(maps, [weights.shape[0], h, w]) as tf.Tensor3D;
  });
}
