/**
 * Grad-CAM: Selvaraju, Cogswell, Das, Vedantam, Parikh, Batra, "Grad-CAM: Visual Explanations from Deep
 * Networks via Gradient-based Localization", ICCV 2017, Eq. 1-2:
 * `alpha_k^c = (1/Z) sum_ij dS_c/dA_ij^k`, `M_c = ReLU(sum_k alpha_k^c A^k)` (ReLU in the shared pipeline).
 */
import * as tf from '@tensorflow/tfjs';
import { weightedSum } from '../maps/filters';
import type { CamMethod } from './types';

export const gradcam: CamMethod = {
  id: 'gradcam',
  title: 'Grad-CAM',
  reference: 'Selvaraju et al., Grad-CAM, ICCV 2017, Eq. 1-2',
  requires: 'differentiable-head',
  rawMaps(context) {
    const gradients = context.gradients(); // [N, h, w, K]
    const alpha = tf.mean(gradients, [1, 2]) as tf.Tensor2D; // [N, K]
    return weightedSum(context.activations, alpha); // [N, h, w]
  },
};
