/**
 * Convolutions with groups, as ONNX (and PyTorch's `groups=g`) define them: the input channels are cut into
 * g groups of p = C_in / g and group j's q = O / g filters see only group j (ResNeXt's cardinality,
 * ResNeSt's split attention, MobileNet's depthwise convolutions). TF.js's conv2d has no groups. Every form
 * below is exact and differentiable on every backend (wasm's depthwise input gradient is registered by
 * src/core/kernels/conv-gradients.ts):
 *
 * - g = 1: one conv2d ('dense');
 * - depthwise (p = 1): one depthwiseConv2d with channel multiplier q ('depthwise'; ONNX orders the output
 *   channels group by group, as depthwiseConv2d does);
 * - otherwise one of three strategies (GROUPED_STRATEGIES), chosen per layer and backend by
 *   groupedStrategyFor from `npm run bench:grouped-conv` (the README's table):
 *   - 'per-group': one conv2d per group on its slice of the input channels, then a concat;
 *   - 'block-diagonal': one conv2d with the full `[kh, kw, C_in, O]` filter, zero off the diagonal blocks
 *     (g times the multiply-adds, one kernel launch);
 *   - 'depthwise-sum': one depthwiseConv2d with channel multiplier q (input channel c of group j paired with
 *     each filter of group j) and a sum over the p channels of each group: `[N, H, W, g, p, q] -> [N, H, W, g, q]`.
 *
 * ONNX filters are moved from `[O, p, kh, kw]` to TF.js's layouts once, when the graph is loaded (a 1-D
 * filter `[O, p, k]` is a 2-D one with kh = 1); TF.js graph models' grouped Conv2D filters `[kh, kw, p, O]`
 * as they run (graph-grouped-conv.ts).
 */
import * as tf from '@tensorflow/tfjs';

export type GroupedStrategy = 'per-group' | 'block-diagonal' | 'depthwise-sum';
export const GROUPED_STRATEGIES: readonly GroupedStrategy[] = ['per-group', 'block-diagonal', 'depthwise-sum'];

/**
 * The rule for grouped (not depthwise) convolutions, from `npm run bench:grouped-conv` on wasm in Node (the
 * README's table, "Grouped convolutions"): many narrow groups (ResNeXt: 32 groups of 4 to 16 channels) run
 * fastest as 'depthwise-sum' (one kernel instead of 32: forward 2 to 3 times faster, the input gradient as
 * fast or faster), few wide groups (ResNeSt's split attention: 2 groups of 32 to 512 channels) as
 * 'per-group' (depthwise-sum there multiplies the intermediate tensor by the channels per group: 4 to 7
 * times slower). At 32 channels per group (ResNeXt's last stage) the two are level; per-group keeps memory
 * low. Backends that were not measured on a real device (webgpu, webgl: no GPU was lent to this project's
 * sessions) use per-group, the form with the smallest intermediate tensors.
 */
export const DEPTHWISE_SUM_RULE = { backends: ['wasm', 'cpu'], minGroups: 8, maxChannelsPerGroup: 16 } as const;

let forcedStrategy: GroupedStrategy | null = null;

/** Makes models loaded from now on use `strategy` for every grouped convolution (null: the rule above); for benchmarks. */
export function useGroupedStrategy(strategy: GroupedStrategy | null): void {
  forcedStrategy = strategy;
}

/** The strategy for a grouped convolution of `groups` groups of `channelsPerGroup` input channels on `backend`. */
export function groupedStrategyFor(backend: string, groups: number, channelsPerGroup: number): GroupedStrategy {
  if (forcedStrategy !== null) return forcedStrategy;
  const { backends, minGroups, maxChannelsPerGroup } = DEPTHWISE_SUM_RULE;
  return (backends as readonly string[]).includes(backend) && groups >= minGroups && channelsPerGroup <= maxChannelsPerGroup
    ? 'depthwise-sum'
    : 'per-group';
}

export interface PreparedFilter {
  mode: 'dense' | 'depthwise' | GroupedStrategy;
  groups: number;
  /**
   * dense, block-diagonal: one `[kh, kw, C_in, O]`; depthwise: one `[kh, kw, C_in, q]`; per-group: g of
   * `[kh, kw, p, q]`; depthwise-sum: one `[kh, kw, C_in, q]`.
   */
  filters: tf.Tensor4D[];
  /** Every tensor made (kept), for the graph to dispose. */
  tensors: tf.Tensor[];
}

/**
 * A filter in TensorFlow's layout `[kh, kw, p, O]` (p = C_in / groups: grouped when p < C_in, as
 * TensorFlow's Conv2D reads it) in the layout of its grouping. Synchronous tensor code: call it in a tidy,
 * keep what it returns.
 * @param strategy for a grouped (not depthwise) filter; default: groupedStrategyFor the current backend
 */
export function prepareTfFilter(filter: tf.Tensor4D, group: number, strategy?: GroupedStrategy): PreparedFilter {
  const [kh, kw, perGroup, outChannels] = filter.shape;
  const grouped = strategy ?? groupedStrategyFor(tf.getBackend(), group, perGroup);
  if (outChannels % group !== 0) throw new RangeError(`a grouped convolution with ${outChannels} outputs cannot have ${group} groups`);
  const inChannels = perGroup * group;
  const perOut = outChannels / group;
  const mode: PreparedFilter['mode'] = group === 1 ? 'dense' : perGroup === 1 ? 'depthwise' : grouped;
  let filters: tf.Tensor4D[];
  switch (mode) {
    case 'dense':
      filters = [filter];
      break;
    case 'depthwise':
      // Output channel g * q + j reads input channel g: [kh, kw, 1, g * q] is depthwiseConv2d's [kh, kw, C_in, q].
      filters = [tf.reshape(filter, [kh, kw, inChannels, perOut])];
      break;
    case 'per-group':
      filters = tf.split(filter, group, 3);
      break;
    case 'block-diagonal':
      // Group g's filters see input channels g * p ... (g + 1) * p - 1, zeros elsewhere: [kh, kw, C_in, O].
      filters = [
        tf.concat<tf.Tensor4D>(
          tf.split(filter, group, 3).map(
            (part, g) =>
              tf.pad(part, [
                [0, 0],
                [0, 0],
                [g * perGroup, (group - 1 - g) * perGroup],
                [0, 0],
              ]) as tf.Tensor4D,
          ),
          3,
        ),
      ];
      break;
    case 'depthwise-sum':
      // Input channel g * p + c paired with filter j of group g: [kh, kw, p, g, q] -> [kh, kw, g, p, q] -> [kh, kw, C_in, q].
      filters = [
        tf.reshape(tf.transpose(tf.reshape(filter, [kh, kw, perGroup, group, perOut]), [0, 1, 3, 2, 4]), [kh, kw, inChannels, perOut]),
      ];
      break;
  }
  return { mode, groups: group, filters, tensors: filters };
}

/** prepareTfFilter on the filter `build` makes, with every tensor it makes kept (for filters laid out once, at load). */
export function keptTfFilter(build: () => tf.Tensor4D, group: number, strategy?: GroupedStrategy): PreparedFilter {
  const { mode, groups, filters } = tf.tidy(() => {
    const prepared = prepareTfFilter(build(), group, strategy);
    return { mode: prepared.mode, groups: prepared.groups, filters: prepared.filters };
  });
  filters.forEach((tensor) => tf.keep(tensor));
  return { mode, groups, filters, tensors: filters };
}

/** The convolution of an NHWC input `[N, H, W, C_in]` with a prepared filter (explicit padding, stride or dilation): `[N, H', W', O]`. */
export function groupedConv2d(
  x: tf.Tensor4D,
  filter: PreparedFilter,
  strides: [number, number],
  pad: tf.backend_util.ExplicitPadding,
  dilations: [number, number],
): tf.Tensor4D {
  switch (filter.mode) {
    case 'dense':
    case 'block-diagonal':
      return tf.conv2d(x, filter.filters[0]!, strides, pad, 'NHWC', dilations);
    case 'depthwise':
      return tf.depthwiseConv2d(x, filter.filters[0]!, strides, pad, 'NHWC', dilations);
    case 'per-group': {
      const parts = tf.split(x, filter.filters.length, 3);
      return tf.concat(
        parts.map((part, j) => tf.conv2d(part as tf.Tensor4D, filter.filters[j]!, strides, pad, 'NHWC', dilations)),
        3,
      );
    }
    case 'depthwise-sum': {
      const pairs = tf.depthwiseConv2d(x, filter.filters[0]!, strides, pad, 'NHWC', dilations); // [N, H', W', C_in * q]
      const [n, h, w, channels] = pairs.shape;
      const perOut = filter.filters[0]!.shape[3];
      const perGroup = x.shape[3] / filter.groups;
      const summed = tf.sum(tf.reshape(pairs, [n, h, w, filter.groups, perGroup, perOut]), 4);
      return tf.reshape(summed, [n, h, w, (channels / perGroup) | 0]);
    }
  }
}
