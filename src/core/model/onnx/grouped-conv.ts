/**
 * Convolutions with groups, as ONNX (and PyTorch's `groups=g`) define them: the input channels are cut into
 * g groups and group j's filters see only group j (ResNeXt's cardinality, ResNeSt's split attention,
 * MobileNet's depthwise convolutions). TF.js's conv2d has no groups, so:
 *
 * - g = 1: one conv2d;
 * - depthwise (g = C_in, each group one input channel, m outputs each): one depthwiseConv2d with channel
 *   multiplier m (ONNX orders output channels group by group, as depthwiseConv2d does);
 * - otherwise: one conv2d per group on its slice of the input channels, then a concat. This was the fastest
 *   of the exact forms that have gradients on every backend (measured: `npm run bench:grouped-conv`, table
 *   in the README): a block-diagonal full filter does g times the work, and the depthwise trick for general
 *   groups needs a reshape and a sum that cost more than they save.
 *
 * Filters are moved from ONNX's `[O, I/g, kh, kw]` to TF.js's `[kh, kw, I/g, O/g]` once, when the graph
 * is loaded. A 1-D filter `[O, I/g, k]` is a 2-D one with kh = 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from './host';

export interface PreparedFilter {
  mode: 'dense' | 'depthwise' | 'grouped';
  /** The spatial kernel as ONNX states it: `[kh, kw]` (2-D) or `[k]` (1-D). */
  kernel: number[];
  /** Dense: one `[kh, kw, C_in, O]`; depthwise: one `[kh, kw, C_in, m]`; grouped: g of `[kh, kw, C_in/g, O/g]`. */
  filters: tf.Tensor4D[];
  /** Every tensor made (kept), for the graph to dispose. */
  tensors: tf.Tensor[];
}

/** Moves an ONNX filter to TF.js's layout for its grouping. */
export function prepareConvFilter(filter: HostTensor, group: number): PreparedFilter {
  const [outChannels, perGroup, ...spatial] = filter.shape as [number, number, ...number[]];
  const [kh, kw] = spatial.length === 1 ? [1, spatial[0]!] : [spatial[0]!, spatial[1]!];
  const inChannels = perGroup * group;
  if (outChannels % group !== 0) throw new RangeError(`a grouped convolution with ${outChannels} outputs cannot have ${group} groups`);
  const filters = tf.tidy(() => {
    const onnxLayout = tf.tensor4d(filter.data as Float32Array, [outChannels, perGroup, kh, kw]);
    if (group === 1) return [tf.transpose(onnxLayout, [2, 3, 1, 0]) as tf.Tensor4D];
    if (perGroup === 1 && group === inChannels) {
      const multiplier = outChannels / group;
      return [tf.transpose(tf.reshape(onnxLayout, [inChannels, multiplier, kh, kw]), [2, 3, 0, 1]) as tf.Tensor4D];
    }
    return tf.split(onnxLayout, group, 0).map((part) => tf.transpose(part, [2, 3, 1, 0]) as tf.Tensor4D);
  });
  filters.forEach((tensor) => tf.keep(tensor));
  const mode = group === 1 ? 'dense' : perGroup === 1 && group === inChannels ? 'depthwise' : 'grouped';
  return { mode, kernel: spatial, filters, tensors: filters };
}

/** The convolution of an NHWC input with a prepared filter (explicit padding, stride or dilation). */
export function groupedConv2d(
  x: tf.Tensor4D,
  filter: PreparedFilter,
  strides: [number, number],
  pad: tf.backend_util.ExplicitPadding,
  dilations: [number, number],
): tf.Tensor4D {
  switch (filter.mode) {
    case 'dense':
      return tf.conv2d(x, filter.filters[0]!, strides, pad, 'NHWC', dilations);
    case 'depthwise':
      return tf.depthwiseConv2d(x, filter.filters[0]!, strides, pad, 'NHWC', dilations);
    case 'grouped': {
      const parts = tf.split(x, filter.filters.length, 3);
      return tf.concat(
        parts.map((part, j) => tf.conv2d(part as tf.Tensor4D, filter.filters[j]!, strides, pad, 'NHWC', dilations)),
        3,
      );
    }
  }
}
