/**
 * The numbers of the classroom walkthrough (issue #6): how a CAM is made for one image and label, step by
 * step, from the same pieces the methods use (the target layer's activations, the weights of
 * weights.ts and gradient.ts, `weightedSum`), so what the class sees is what the studio computes.
 *
 *   A^k: [h, w] for k < K                          the target layer (spec "Notation")
 *   CAM weights w_k^c = W[k, c]                    (Zhou et al. 2016, Eq. 2)
 *   Grad-CAM weights alpha_k^c = mean_ij dS_c/dA_ij^k   (Selvaraju et al. 2017, Eq. 1)
 *   MinMax-CAM weights w_k^u = W[k, u] - W[k, v]   with C_x = {u, v} (David et al. 2022, Eq. 5)
 *   M = sum_k w_k A^k (before ReLU), then ReLU, normalise, upsample (display only).
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../shared/errors';
import { weightedSum } from '../maps/filters';
import type { Classifier, ForwardPass } from '../model/classifier';
import { ExplainContext } from './context';
import { validateLabels } from './explain';
import { gradCamWeights } from './gradient';
import { camWeights, minmaxCamWeights } from './weights';
import type { WalkthroughData, WalkthroughMap, WalkthroughRequest } from '../../shared/walkthrough';

const range = (values: Float32Array): { min: number; max: number } => {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
};

type TensorName =
  | 'gradcam'
  | 'gradcamSum'
  | 'cam'
  | 'camSum'
  | 'contrastCam'
  | 'contrastCamSum'
  | 'minmax'
  | 'minmaxSum'
  | 'indices'
  | 'channels'
  | 'probabilities';

const asMap = (values: Float32Array): WalkthroughMap => ({ values, ...range(values) });

/**
 * Computes every number the walkthrough shows. `input: [1, H, W, C]` and its `forward` pass stay the
 * caller's; nothing else outlives the call.
 */
export async function walkthroughData(
  adapter: Classifier,
  input: tf.Tensor4D,
  forward: ForwardPass,
  request: WalkthroughRequest,
): Promise<WalkthroughData> {
  const contrast = request.contrastLabel !== null && request.contrastLabel !== request.label ? request.contrastLabel : null;
  validateLabels(adapter, contrast === null ? [request.label] : [request.label, contrast]);
  if (!Number.isInteger(request.channels) || request.channels < 1)
    throw new StudioError('label-out-of-range', 'The walkthrough needs at least one channel to show.');
  const hasHead = adapter.headKind === 'gap-dense';
  const labels = contrast === null ? [request.label] : [request.label, contrast];
  const context = new ExplainContext({ adapter, input, forward, labels, detected: labels });
  const [, h, w, k] = forward.activations.shape;
  try {
    const tensors: Partial<Record<TensorName, tf.Tensor>> = tf.tidy(() => {
      const out: Partial<Record<TensorName, tf.Tensor>> = {};
      const sum = (weights: tf.Tensor2D) => weightedSum(forward.activations, weights).reshape([-1]);
      const gradcam = gradCamWeights(tf.slice(context.gradients(), [0, 0, 0, 0], [1, h, w, k])); // [1, K]
      out.gradcam = gradcam;
      out.gradcamSum = sum(gradcam);
      let ranking: tf.Tensor = gradcam;
      if (hasHead) {
        const cam = camWeights(context); // [N, K]
        const own = tf.slice(cam, [0, 0], [1, k]) as tf.Tensor2D;
        out.cam = own;
        out.camSum = sum(own);
        ranking = own;
        if (contrast !== null) {
          const other = tf.slice(cam, [1, 0], [1, k]) as tf.Tensor2D;
          const minmax = tf.slice(minmaxCamWeights(context), [0, 0], [1, k]) as tf.Tensor2D;
          out.contrastCam = other;
          out.contrastCamSum = sum(other);
          out.minmax = minmax;
          out.minmaxSum = sum(minmax);
        }
      }
      const { indices } = tf.topk(tf.abs(ranking).reshape([k]), Math.min(request.channels, k));
      out.indices = indices;
      out.channels = tf.gather(forward.activations.reshape([h * w, k]), indices, 1).transpose(); // [N', h*w]
      out.probabilities = adapter.probabilities(forward.logits);
      return out as Record<string, tf.Tensor>;
    });
    try {
      const names = Object.keys(tensors) as TensorName[];
      const values = await Promise.all(names.map((name) => tensors[name]!.data()));
      const got = Object.fromEntries(names.map((name, i) => [name, values[i]])) as Partial<Record<TensorName, Float32Array>>;
      const logits = (await forward.logits.data()) as Float32Array;
      const hw = h * w;
      const map = (name: TensorName): WalkthroughMap | null => (got[name] === undefined ? null : asMap(got[name]!));
      return {
        activationShape: [h, w, k],
        label: request.label,
        contrastLabel: contrast,
        scores: labels.map((label) => ({ label, logit: logits[label]!, prob: got.probabilities![label]! })),
        weights: { cam: got.cam ?? null, gradcam: got.gradcam!, minmax: got.minmax ?? null, contrastCam: got.contrastCam ?? null },
        topChannels: Array.from(got.indices!, (channel, i) => ({ channel, map: asMap(got.channels!.slice(i * hw, (i + 1) * hw)) })),
        sums: { cam: map('camSum'), gradcam: map('gradcamSum')!, minmax: map('minmaxSum'), contrastCam: map('contrastCamSum') },
      };
    } finally {
      tf.dispose(Object.values(tensors));
    }
  } finally {
    context.dispose();
  }
}
