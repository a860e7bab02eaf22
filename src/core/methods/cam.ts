/**
 * CAM: Zhou, Khosla, Lapedriza, Oliva, Torralba, "Learning Deep Features for Discriminative
 * Localization", CVPR 2016, Eq. 2: `M_c(x, y) = sum_k w_k^c f_k(x, y)`, with `w^c` the Dense weights of
 * class c after global average pooling.
 */
import * as tf from '@tensorflow/tfjs';
import { weightedSum } from '../maps/filters';
import type { CamMethod } from './types';

export const cam: CamMethod = {
  id: 'cam',
  title: 'CAM',
  reference: 'Zhou et al., Learning Deep Features for Discriminative Localization, CVPR 2016, Eq. 2',
  requires: 'gap-dense-head',
  rawMaps(context) {
    const kernel = context.adapter.classWeights as tf.Tensor2D; // [K, L]
    const weights = tf.matMul(context.labelSelector(), kernel, false, true) as tf.Tensor2D; // [N, K] = W[:, c_n]^T
    return weightedSum(context.activations, weights); // [N, h, w]
  },
};
