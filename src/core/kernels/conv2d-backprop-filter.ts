/**
 * The reference `Conv2DBackpropFilter` for backends that lack it (the wasm backend): dL/dW of a 2-D
 * convolution, written with existing ops. TF.js's fused conv2d computes the filter gradient eagerly whenever
 * anything is differentiated through a convolution, so without this kernel the wasm backend can compute no
 * input gradient (saliency methods) and train no convolution. The registered kernel is the faster
 * single-convolution version of ./conv-gradients.ts; this one is the plain statement it is tested against.
 *
 * For every filter tap (i, j): `dW[i, j] = X_pad[:, i::s, j::s, :]^T dY` over all output positions, i.e.
 * a `[C_in, B*oh*ow] x [B*oh*ow, C_out]` matrix product per tap (NHWC, dilation 1).
 */
import * as tf from '@tensorflow/tfjs';

export interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * The filter gradient `[fh, fw, C_in, C_out]` of a convolution of `x: [B, H, W, C_in]` giving
 * `dy: [B, oh, ow, C_out]`. Pure tensor code (tidy).
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { top, bottom, left, right } = info.padInfo;
    const padded = tf.pad(x, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const dyFlat = tf.reshape(dy, [rows, info.outChannels]);
    const taps: tf.Tensor2D[] = [];
    for (let i = 0; i < info.filterHeight; i += 1) {
      for (let j = 0; j < info.filterWidth; j += 1) {
        const patch = tf.stridedSlice(
          padded,
          [0, i, j, 0],
          [
            info.batchSize,
            i + (info.outHeight - 1) * info.strideHeight + 1,
            j + (info.outWidth - 1) * info.strideWidth + 1,
            info.inChannels,
          ],
          [1, info.strideHeight, info.strideWidth, 1],
        ); // [B, oh, ow, C_in]
        taps.push(tf.matMul(tf.reshape(patch, [rows, info.inChannels]), dyFlat, true, false)); // [C_in, C_out]
      }
    }
    return tf.reshape(tf.stack(taps), attrs.filterShape) as tf.Tensor4D;
  });
}

/**
 * A kernel body written with ops, for a backend whose data lives in CPU memory (wasm): the named 4-D
 * inputs are copied into ordinary tensors (engine-made views of a kernel's inputs are not released
 * cleanly), `compute` runs on them, and its values are written as the kernel's output. Nothing is left
 * behind; synchronous reads are cheap there.
 */
export function copyingKernelFunc(
  inputNames: readonly [string, string],
  compute: (a: tf.Tensor4D, b: tf.Tensor4D, attrs: unknown) => tf.Tensor4D,
): tf.KernelFunc {
  return ({ inputs, backend: kernelBackend, attrs }) => {
    const backend = kernelBackend as tf.KernelBackend;
    const copy = (info: tf.TensorInfo): tf.Tensor4D =>
      tf.tensor4d(backend.readSync(info.dataId) as Float32Array, info.shape as [number, number, number, number], 'float32');
    const a = copy(inputs[inputNames[0]] as tf.TensorInfo);
    const b = copy(inputs[inputNames[1]] as tf.TensorInfo);
    try {
      const result = compute(a, b, attrs);
      try {
        const dataId = backend.write(backend.readSync(result.dataId) as Float32Array, result.shape, 'float32');
        return { dataId, shape: result.shape, dtype: 'float32' };
      } finally {
        result.dispose();
      }
    } finally {
      a.dispose();
      b.dispose();
    }
  };
}
