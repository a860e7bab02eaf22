/**
 * Eigen-CAM (Muhammad and Yeasin, IJCNN 2020, Eq. 3-4) and Eigen-Grad-CAM: the projection of the
 * (column-centred) feature matrix `X: [hw, K]` on its first right singular vector, `X v_1 = sigma_1 u_1`.
 * The decomposition runs on the smaller Gram matrix (`X X^T` or `X^T X`) with ml-matrix's symmetric
 * eigen-solver (TF.js has no SVD). A singular vector's sign is arbitrary; it is chosen so the map
 * correlates positively with `sum_k A^k` (spec), which makes the result deterministic.
 */
import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { ExplainContext } from './context';
import { defineMethod } from './types';

/**
 * First principal projection of each of N feature stacks.
 * @param features `[N, h, w, K]`
 * @param reference `[h, w]` values the sign is aligned with (sum over channels of A)
 * @returns `[N, h, w]` (caller owns)
 */
export async function firstPrincipalProjection(features: tf.Tensor4D, reference: Float32Array): Promise<tf.Tensor3D> {
  const [count, h, w, k] = features.shape;
  const positions = h * w;
  const useRowGram = positions <= k;
  const [centred, gram] = tf.tidy(() => {
    const matrix = tf.reshape(features, [count, positions, k]); // [N, hw, K]
    const centredMatrix = tf.sub(matrix, tf.mean(matrix, 1, true)); // column-mean-centred
    const gramMatrix = useRowGram
      ? tf.matMul(centredMatrix, centredMatrix, false, true) // [N, hw, hw]
      : tf.matMul(centredMatrix, centredMatrix, true, false); // [N, K, K]
    return [centredMatrix, gramMatrix] as const;
  });
  try {
    const size = useRowGram ? positions : k;
    const gramData = await gram.data();
    const centredData = useRowGram ? null : await centred.data();
    const output = new Float32Array(count * positions);
    for (let n = 0; n < count; n += 1) {
      const rows: number[][] = [];
      for (let i = 0; i < size; i += 1) rows.push(Array.from(gramData.subarray((n * size + i) * size, (n * size + i + 1) * size)));
      const decomposition = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
      const eigenvalues = decomposition.realEigenvalues;
      let top = 0;
      for (let i = 1; i < eigenvalues.length; i += 1) if ((eigenvalues[i] as number) > (eigenvalues[top] as number)) top = i;
      const vector = decomposition.eigenvectorMatrix.getColumn(top);
      const projection = new Float64Array(positions);
      if (useRowGram) {
        const sigma = Math.sqrt(Math.max(eigenvalues[top] as number, 0));
        for (let p = 0; p < positions; p += 1) projection[p] = (vector[p] as number) * sigma;
      } else {
        const data = centredData as Float32Array;
        for (let p = 0; p < positions; p += 1) {
          let sum = 0;
          for (let c = 0; c < k; c += 1) sum += (data[(n * positions + p) * k + c] as number) * (vector[c] as number);
          projection[p] = sum;
        }
      }
      let correlation = 0;
      for (let p = 0; p < positions; p += 1) correlation += (projection[p] as number) * (reference[p] as number);
      const sign = correlation < 0 ? -1 : 1;
      for (let p = 0; p < positions; p += 1) output[n * positions + p] = sign * (projection[p] as number);
    }
    return tf.tensor3d(output, [count, h, w]);
  } finally {
    centred.dispose();
    gram.dispose();
  }
}

async function channelSum(context: ExplainContext): Promise<Float32Array> {
  const sum = tf.sum(context.activations, [0, 3]); // [h, w]
  try {
    return (await sum.data()) as Float32Array;
  } finally {
    sum.dispose();
  }
}

/** Eigen-CAM: Muhammad and Yeasin, IJCNN 2020, Eq. 3-4. Class-agnostic: the same map for every label. */
export const eigencam = defineMethod('eigencam', async (context) => {
  const projection = await firstPrincipalProjection(context.activations, await channelSum(context));
  try {
    return { maps: tf.tidy(() => tf.tile(projection, [context.labels.length, 1, 1]) as tf.Tensor3D) };
  } finally {
    projection.dispose();
  }
});

/** Eigen-Grad-CAM (pytorch-grad-cam): Eigen-CAM on `g * A`, so it depends on the class. */
export const eigengradcam = defineMethod('eigengradcam', async (context) => {
  const product = tf.tidy(() => tf.mul(context.gradients(), context.activations) as tf.Tensor4D);
  try {
    return { maps: await firstPrincipalProjection(product, await channelSum(context)) };
  } finally {
    product.dispose();
  }
});
