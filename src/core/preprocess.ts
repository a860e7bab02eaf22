/**
 * Pixel preprocessing presets. Input: RGB pixels in [0, 255]; output: what the model was trained on.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreprocessingId } from '../shared/model-metadata';

/** Keras "caffe" means, in BGR order (keras.applications.imagenet_utils). */
const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68];
const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];

/**
 * Applies a preprocessing preset.
 * @param rgb `[B, H, W, 3]` RGB in [0, 255] (any dtype)
 * @param channels the model's input channels: 3, or 1 (grayscale: the mean of R, G, B, then the preset)
 * @returns `[B, H, W, channels]` float32
 */
export function preprocess(rgb: tf.Tensor4D, preset: PreprocessingId, channels = 3): tf.Tensor4D {
  return tf.tidy(() => {
    let x = tf.cast(rgb, 'float32') as tf.Tensor4D;
    if (channels === 1) x = tf.mean(x, -1, true) as tf.Tensor4D; // [B, H, W, 1]
    switch (preset) {
      case 'caffe': {
        if (channels === 1) return tf.sub(x, tf.scalar(CAFFE_BGR_MEAN.reduce((a, b) => a + b) / 3)) as tf.Tensor4D;
        const bgr = tf.reverse(x, -1); // RGB -> BGR
        return tf.sub(bgr, tf.tensor1d(CAFFE_BGR_MEAN)) as tf.Tensor4D;
      }
      case 'tf':
        return tf.sub(tf.div(x, 127.5), 1) as tf.Tensor4D;
      case 'torch': {
        const unit = tf.div(x, 255);
        if (channels === 1) return tf.div(tf.sub(unit, 0.449), 0.226) as tf.Tensor4D;
        return tf.div(tf.sub(unit, tf.tensor1d(TORCH_MEAN)), tf.tensor1d(TORCH_STD)) as tf.Tensor4D;
      }
      case 'unit':
        return tf.div(x, 255) as tf.Tensor4D;
    }
  });
}
