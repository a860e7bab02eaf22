/**
 * The convolution gradients the wasm backend lacks or runs slowly, each written as one convolution:
 * `Conv2DBackpropFilter` (missing from wasm) as one dilated convolution instead of one strided slice +
 * matrix product per filter tap, and `Conv2DBackpropInput` as one stride-1 convolution where that is faster
 * than the backend's own.
 *
 * For a forward convolution `y = conv(x, W)` (NHWC, stride s, dilation 1) with padded input `X_pad`:
 * `dW[i, j, ci, co] = sum_{b, y, x} X_pad[b, y s + i, x s + j, ci] dY[b, y, x, co]`. With the batch axis
 * playing the role of the channels, this is a 'valid' convolution of `X_pad^T: [C_in, H_pad, W_pad, B]` with
 * the filter `dY^T: [oh, ow, B, C_out]` at dilation s (the forward stride), giving `[C_in, fh, fw, C_out]`;
 * one transpose gives `[fh, fw, C_in, C_out]`. This is how TensorFlow's own backprop-filter is classically
 * derived (the gradient of a convolution w.r.t. its filter is a convolution of the input with the output
 * gradient). On wasm it runs through XNNPACK's convolution: 5 to 10 times faster than the per-tap version
 * of ./conv2d-backprop-filter.ts for the shapes network's layers (logged by the training script's kernel
 * profile; `npm run bench:gradients` measures both on the bundled models).
 *
 * {@link registerWasmConvGradients} installs both for the studio's worker, the command line and training;
 * the per-tap version stays as the reference the tests compare against.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradient, copyingKernelFunc, type BackpropFilterAttrs } from './conv2d-backprop-filter';

/**
 * Registers this file's convolution gradients for `backendName` (the wasm backend): the filter gradient as
 * one dilated convolution, the input gradient as one convolution where that is faster than the backend's.
 */
export function registerWasmConvGradients(backendName = 'wasm'): void {
  useFilterGradient('conv', backendName);
  useInputGradient('conv', backendName);
  if (tf.getKernel('DepthwiseConv2dNativeBackpropInput', backendName) === undefined) {
    tf.registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName,
      kernelFunc: copyingKernelFunc(['dy', 'filter'], (dy, filter, attrs) =>
        depthwiseInputGradientAsConv(dy, filter, attrs as DepthwiseBackpropInputAttrs),
      ),
    });
  }
}

interface DepthwiseBackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * `dL/dx: [B, H, W, C]` of a depthwise convolution of x with `filter: [fh, fw, C, m]` (channel multiplier m,
 * output channel c m + j) giving `dy: [B, oh, ow, C m]`, which the wasm backend does not have: dy spread onto
 * the stride grid and padded as for {@link conv2dInputGradientAsConv}, one depthwise convolution of its C m
 * channels with the filter rotated by 180 degrees (at the forward dilation), then the m channels of each
 * input channel summed: `dx_c = sum_j dy_{c m + j} (*) rot(w_{c, j})`.
 */
export function depthwiseInputGradientAsConv(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: DepthwiseBackpropInputAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
      'channelsLast',
    );
    const { top, left } = info.padInfo;
    const {
      strideHeight: sh,
      strideWidth: sw,
      dilationHeight: dh,
      dilationWidth: dw,
      outHeight: oh,
      outWidth: ow,
      inHeight: height,
      inWidth: width,
    } = info;
    const [fh, fw, inChannels, multiplier] = filter.shape;
    const effH = (fh - 1) * dh + 1;
    const effW = (fw - 1) * dw + 1;
    const [batch, , , outChannels] = dy.shape;
    let spread: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const grid = tf.pad(tf.reshape(dy, [batch, oh, 1, ow, 1, outChannels]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]);
      spread = tf.slice(
        tf.reshape(grid, [batch, oh * sh, ow * sw, outChannels]),
        [0, 0, 0, 0],
        [batch, (oh - 1) * sh + 1, (ow - 1) * sw + 1, outChannels],
      ) as tf.Tensor4D;
    }
    const beforeH = effH - 1 - top;
    const beforeW = effW - 1 - left;
    const afterH = height + effH - 1 - ((oh - 1) * sh + 1) - beforeH;
    const afterW = width + effW - 1 - ((ow - 1) * sw + 1) - beforeW;
    const padded = tf.pad(spread, [
      [0, 0],
      [Math.max(0, beforeH), Math.max(0, afterH)],
      [Math.max(0, beforeW), Math.max(0, afterW)],
      [0, 0],
    ]);
    const cropped =
      beforeH < 0 || afterH < 0 || beforeW < 0 || afterW < 0
        ? tf.slice(padded, [0, Math.max(0, -beforeH), Math.max(0, -beforeW), 0], [batch, height + effH - 1, width + effW - 1, outChannels])
        : padded;
    const rotated = tf.reshape(tf.reverse(filter, [0, 1]), [fh, fw, inChannels * multiplier, 1]) as tf.Tensor4D;
    const perOutput = tf.depthwiseConv2d(cropped as tf.Tensor4D, rotated, 1, 'valid', 'NHWC', [dh, dw]); // [B, H, W, C m]
    return tf.sum(tf.reshape(perOutput, [batch, height, width, inChannels, multiplier]), 4) as tf.Tensor4D;
  });
}

/** `dL/dW: [fh, fw, C_in, C_out]` of a convolution of `x: [B, H, W, C_in]` giving `dy: [B, oh, ow, C_out]`. */
export function conv2dFilterGradientAsConv(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
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
    const { top, left } = info.padInfo;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow } = info;
    // Exactly the rows/columns the forward convolution reads: (o - 1) s + f of the padded input.
    const needH = (oh - 1) * sh + fh;
    const needW = (ow - 1) * sw + fw;
    const [batch, height, width, channels] = x.shape;
    const padded = tf.pad(x, [
      [0, 0],
      [top, Math.max(0, needH - height - top)],
      [left, Math.max(0, needW - width - left)],
      [0, 0],
    ]);
    const cropped =
      padded.shape[1] === needH && padded.shape[2] === needW ? padded : tf.slice(padded, [0, 0, 0, 0], [batch, needH, needW, channels]);
    const input = tf.transpose(cropped, [3, 1, 2, 0]) as tf.Tensor4D; // [C_in, needH, needW, B]
    const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, B, C_out]
    const out = tf.conv2d(input, filter, 1, 'valid', 'NHWC', [sh, sw]); // [C_in, fh, fw, C_out]
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** 'core': the per-tap reference of ./conv2d-backprop-filter.ts; 'conv': {@link conv2dFilterGradientAsConv}. */
export type FilterGradientImplementation = 'core' | 'conv';

/**
 * Registers `Conv2DBackpropFilter` for `backendName` with the chosen implementation, replacing whatever is
 * registered ('core': ./conv2d-backprop-filter.ts's per-tap version; 'conv': this file's).
 * Inputs are copied into ordinary tensors and the result written as the kernel's output, as the core
 * registration does, so the kernel leaves no tensor behind.
 */
export function useFilterGradient(implementation: FilterGradientImplementation, backendName = 'wasm'): void {
  if (tf.getKernel('Conv2DBackpropFilter', backendName) !== undefined) tf.unregisterKernel('Conv2DBackpropFilter', backendName);
  const gradient = implementation === 'conv' ? conv2dFilterGradientAsConv : conv2dFilterGradient;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: copyingKernelFunc(['x', 'dy'], (x, dy, attrs) => gradient(x, dy, attrs as BackpropFilterAttrs)),
  });
}

interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * `dL/dx: [B, H, W, C_in]` of a convolution of x with `filter: [fh, fw, C_in, C_out]` giving
 * `dy: [B, oh, ow, C_out]`, as one stride-1 convolution: dy is spread onto the stride grid (zeros between,
 * "fractionally strided"), padded by `f - 1 - pad_before` before and what the input size needs after,
 * and convolved with the filter rotated by 180 degrees with its channel axes swapped.
 */
export function conv2dInputGradientAsConv(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: BackpropInputAttrs): tf.Tensor4D {
  if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropInput: only NHWC is supported');
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { top, left } = info.padInfo;
    const {
      strideHeight: sh,
      strideWidth: sw,
      filterHeight: fh,
      filterWidth: fw,
      outHeight: oh,
      outWidth: ow,
      inHeight: height,
      inWidth: width,
    } = info;
    const [batch, , , outChannels] = dy.shape;
    let spread: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const grid = tf.pad(tf.reshape(dy, [batch, oh, 1, ow, 1, outChannels]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]);
      spread = tf.slice(
        tf.reshape(grid, [batch, oh * sh, ow * sw, outChannels]),
        [0, 0, 0, 0],
        [batch, (oh - 1) * sh + 1, (ow - 1) * sw + 1, outChannels],
      ) as tf.Tensor4D;
    }
    const lengthH = (oh - 1) * sh + 1;
    const lengthW = (ow - 1) * sw + 1;
    const beforeH = fh - 1 - top;
    const beforeW = fw - 1 - left;
    const afterH = height + fh - 1 - lengthH - beforeH;
    const afterW = width + fw - 1 - lengthW - beforeW;
    // Negative "padding" (the forward pass never read those rows) becomes a crop.
    const padded = tf.pad(spread, [
      [0, 0],
      [Math.max(0, beforeH), Math.max(0, afterH)],
      [Math.max(0, beforeW), Math.max(0, afterW)],
      [0, 0],
    ]);
    const cropped =
      beforeH < 0 || afterH < 0 || beforeW < 0 || afterW < 0
        ? tf.slice(padded, [0, Math.max(0, -beforeH), Math.max(0, -beforeW), 0], [batch, height + fh - 1, width + fw - 1, outChannels])
        : padded;
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [fh, fw, C_out, C_in]
    return tf.conv2d(cropped as tf.Tensor4D, rotated, 1, 'valid');
  });
}

let nativeBackpropInput: tf.KernelConfig | null | undefined;

/**
 * Registers `Conv2DBackpropInput` for `backendName` as {@link conv2dInputGradientAsConv} where that is faster
 * on wasm (measured: stride 1, 3x3, 16-64 channels: 5 to 10 times; 3x3 stride 2 with 16 input channels:
 * about 2 times), and as the backend's own kernel otherwise (1x1 projections, 3-channel inputs).
 * `implementation: 'native'` restores the backend's own kernel.
 */
export function useInputGradient(implementation: 'native' | 'conv', backendName = 'wasm'): void {
  if (nativeBackpropInput === undefined) nativeBackpropInput = tf.getKernel('Conv2DBackpropInput', backendName) ?? null;
  const native = nativeBackpropInput;
  if (tf.getKernel('Conv2DBackpropInput', backendName) !== undefined) tf.unregisterKernel('Conv2DBackpropInput', backendName);
  if (implementation === 'native') {
    if (native !== null) tf.registerKernel(native);
    return;
  }
  const viaConv = copyingKernelFunc(['dy', 'filter'], (dy, filter, attrs) =>
    conv2dInputGradientAsConv(dy, filter, attrs as BackpropInputAttrs),
  );
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName,
    // The wasm kernel binds its C function in a setup run when the backend starts: keep it, or registering
    // before the backend starts would leave the native path unbound.
    ...(native?.setupFunc === undefined ? {} : { setupFunc: native.setupFunc }),
    kernelFunc: (args) => {
      const { inputs, attrs } = args;
      const filterInfo = inputs['filter'] as tf.TensorInfo;
      const [fh, fw, inChannels] = filterInfo.shape as [number, number, number, number];
      const typed = attrs as unknown as BackpropInputAttrs;
      const strides = typeof typed.strides === 'number' ? [typed.strides, typed.strides] : typed.strides;
      const faster = strides[0] === 1 && strides[1] === 1 ? fh * fw > 1 : fh * fw > 1 && inChannels >= 8;
      if (!faster && native !== null) return native.kernelFunc(args);
      return viaConv(args);
    },
  });
}
