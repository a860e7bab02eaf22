/**
 * The neural-network ONNX operators (opset 9-18): Conv (1-D and 2-D, grouped and depthwise), MaxPool and
 * AveragePool (pads, auto_pad, ceil_mode, dilations, count_include_pad), the global pools,
 * BatchNormalization (inference), Gemm, MatMul, Flatten and Softmax / LogSoftmax. Convolutions and pools
 * run NHWC; their weights are moved to TF.js's layout once, when the graph is loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { sizeOf, valuesOf, type HostTensor } from './host';
import { attrFloat, attrInt, attrInts, attrString, axisOf, one, type LoadInfo, type OpSpec, type OpTable } from './op';
import { groupedConv2d, keptTfFilter, type PreparedFilter } from '../grouped-conv';
import type { OnnxNode } from './proto';
import { NHWC_AXIS, nhwcTensor, nhwcValue, onnxShape, plainTensor, plainValue, type Value } from './values';

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** The spatial geometry of a convolution or pool along one axis. */
interface Axis {
  kernel: number;
  stride: number;
  dilation: number;
  padBegin: number;
  padEnd: number;
  /** The output size. */
  out: number;
}

/**
 * The geometry of every spatial axis (ONNX's Conv / Pool formulas): explicit pads or auto_pad, floor or
 * ceil output sizes (ceil as PyTorch exports it: the last window must start inside the padded input).
 */
function geometry(node: OnnxNode, inSizes: readonly number[], kernel: readonly number[], ceil: boolean): Axis[] {
  const rank = inSizes.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(rank).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(rank).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  return inSizes.map((size, i) => {
    const k = kernel[i]!;
    const s = strides[i] ?? 1;
    const d = dilations[i] ?? 1;
    const extent = (k - 1) * d + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(size / s);
      const total = Math.max(0, (out - 1) * s + extent - size);
      const small = Math.floor(total / 2);
      const begin = autoPad === 'SAME_UPPER' ? small : total - small;
      return { kernel: k, stride: s, dilation: d, padBegin: begin, padEnd: total - begin, out };
    }
    const padBegin = autoPad === 'VALID' ? 0 : (pads[i] ?? 0);
    const padEnd = autoPad === 'VALID' ? 0 : (pads[i + rank] ?? 0);
    const span = size + padBegin + padEnd - extent;
    let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceil && (out - 1) * s >= size + padBegin) out -= 1;
    return { kernel: k, stride: s, dilation: d, padBegin, padEnd, out };
  });
}

/** Spatial rank of a node's input from its kernel (Conv: the filter's rank - 2; pools: kernel_shape). */
function checkSpatial(rank: number | null, what: string): string | null {
  if (rank !== null && rank !== 1 && rank !== 2) return `${what} with ${rank} spatial dimensions (only 1-D and 2-D are supported)`;
  return null;
}

/** A 1-D input `[N, C, L]` as a 2-D map with H = 1, NHWC; a 2-D one as NHWC. */
function asMap(value: Value, context: Parameters<OpSpec['run']>[2]): { x: tf.Tensor4D; oneD: boolean } {
  const shape = onnxShape(value);
  if (shape.length === 3) {
    const plain = plainTensor(value, context.constants);
    return { x: tf.transpose(tf.reshape(plain, [shape[0]!, shape[1]!, 1, shape[2]!]), [0, 2, 3, 1]) as tf.Tensor4D, oneD: true };
  }
  return { x: nhwcTensor(value, context.constants), oneD: false };
}

/** An NHWC result back as the node's output: 1-D results return to `[N, C, L]`. */
function fromMap(y: tf.Tensor4D, oneD: boolean): Value {
  if (!oneD) return nhwcValue(y);
  const [n, , l, c] = y.shape;
  return plainValue(tf.transpose(tf.reshape(y, [n, l, c]), [0, 2, 1]));
}

/** The 2-D geometry of a map (a 1-D one gets the identity along H). */
function mapGeometry(node: OnnxNode, x: tf.Tensor4D, oneD: boolean, kernel: readonly number[], ceil: boolean): [Axis, Axis] {
  const [, h, w] = x.shape;
  if (oneD) {
    const [along] = geometry(node, [w], kernel, ceil);
    return [{ kernel: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, out: 1 }, along!];
  }
  const [rows, columns] = geometry(node, [h, w], kernel, ceil);
  return [rows!, columns!];
}

/** Takes every `stride`-th row and column (a stride done after a stride-1 dilated op), then `out` of them. */
function subsample(y: tf.Tensor4D, rows: Axis, columns: Axis, strided: boolean): tf.Tensor4D {
  const [n, , , c] = y.shape;
  if (!strided) return tf.slice(y, [0, 0, 0, 0], [n, rows.out, columns.out, c]);
  return tf.stridedSlice(
    y,
    [0, 0, 0, 0],
    [n, rows.out * rows.stride, columns.out * columns.stride, c],
    [1, rows.stride, columns.stride, 1],
  ) as tf.Tensor4D;
}

/**
 * Moves an ONNX filter `[O, p, kh, kw]` (or 1-D `[O, p, k]`) to TF.js's layout for its grouping, once, at
 * load; the tensors are kept (the graph disposes them).
 */
function prepareConvFilter(filter: HostTensor, group: number): PreparedFilter & { kernel: number[] } {
  const [outChannels, perGroup, ...spatial] = filter.shape as [number, number, ...number[]];
  const [kh, kw] = spatial.length === 1 ? [1, spatial[0]!] : [spatial[0]!, spatial[1]!];
  const build = (): tf.Tensor4D => tf.transpose(tf.tensor4d(filter.data as Float32Array, [outChannels, perGroup, kh, kw]), [2, 3, 1, 0]);
  return { ...keptTfFilter(build, group), kernel: spatial };
}

const Conv: OpSpec = {
  check: (node, info) => {
    const filter = info.constant(1);
    if (filter === null) return 'a filter computed by the graph (only constant filters are supported)';
    if (!AUTO_PADS.includes(attrString(node, 'auto_pad', 'NOTSET'))) return `auto_pad ${attrString(node, 'auto_pad', '')}`;
    return checkSpatial(filter.shape.length - 2, 'a convolution');
  },
  prepare: (node, info) => {
    const filter = info.constant(1)!;
    const bias = info.constant(2);
    const prepared = prepareConvFilter(filter, attrInt(node, 'group', 1));
    const biasTensor = bias === null ? null : tf.keep(tf.tensor1d(bias.data as Float32Array, 'float32'));
    return { data: { filter: prepared, bias: biasTensor }, tensors: [...prepared.tensors, ...(biasTensor === null ? [] : [biasTensor])] };
  },
  run: (node, [input], context, prepared) => {
    const { filter, bias } = prepared as { filter: PreparedFilter & { kernel: number[] }; bias: tf.Tensor1D | null };
    const { x, oneD } = asMap(input!, context);
    const [rows, columns] = mapGeometry(node, x, oneD, filter.kernel, false);
    const both = (rows.stride > 1 || columns.stride > 1) && (rows.dilation > 1 || columns.dilation > 1);
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [rows.padBegin, rows.padEnd],
      [columns.padBegin, columns.padEnd],
      [0, 0],
    ];
    // TF.js takes a stride or a dilation, not both: then dilate at stride 1 and subsample.
    const strides: [number, number] = both ? [1, 1] : [rows.stride, columns.stride];
    let y = groupedConv2d(x, filter, strides, pad, [rows.dilation, columns.dilation]);
    if (both) y = subsample(y, rows, columns, true);
    if (bias !== null) y = tf.add(y, bias);
    return one(fromMap(y, oneD));
  },
};

function pool(kind: 'max' | 'avg'): OpSpec {
  return {
    check: (node) => {
      const kernel = attrInts(node, 'kernel_shape');
      if (kernel === undefined) return 'no kernel_shape';
      if (kind === 'max' && node.outputs.length > 1 && node.outputs[1] !== '') return 'its Indices output';
      if (!AUTO_PADS.includes(attrString(node, 'auto_pad', 'NOTSET'))) return `auto_pad ${attrString(node, 'auto_pad', '')}`;
      return checkSpatial(kernel.length, 'a pool');
    },
    run: (node, [input], context) => {
      const { x, oneD } = asMap(input!, context);
      const kernel = attrInts(node, 'kernel_shape')!;
      const [rows, columns] = mapGeometry(node, x, oneD, kernel, attrInt(node, 'ceil_mode', 0) === 1);
      const [, h, w] = x.shape;
      // Pad explicitly to exactly what the windows read (declared pads, then what ceil mode adds).
      const needH = (rows.out - 1) * rows.stride + (rows.kernel - 1) * rows.dilation + 1;
      const needW = (columns.out - 1) * columns.stride + (columns.kernel - 1) * columns.dilation + 1;
      const extraH = Math.max(0, needH - (h + rows.padBegin + rows.padEnd));
      const extraW = Math.max(0, needW - (w + columns.padBegin + columns.padEnd));
      const padding: Array<[number, number]> = [
        [0, 0],
        [rows.padBegin, rows.padEnd + extraH],
        [columns.padBegin, columns.padEnd + extraW],
        [0, 0],
      ];
      const padded = padding.some(([a, b]) => a > 0 || b > 0);
      const both = (rows.stride > 1 || columns.stride > 1) && (rows.dilation > 1 || columns.dilation > 1);
      const strides: [number, number] = both ? [1, 1] : [rows.stride, columns.stride];
      const window: [number, number] = [rows.kernel, columns.kernel];
      const dilations: [number, number] = [rows.dilation, columns.dilation];
      const run = (t: tf.Tensor4D): tf.Tensor4D => {
        const out = tf.pool(t, window, kind, 'valid', dilations, strides) as tf.Tensor4D;
        return subsample(out, rows, columns, both);
      };
      if (kind === 'max') {
        // TF.js pools float32 only: integer maps go through float32 (exact below 2^24).
        const float = x.dtype === 'float32' ? x : (tf.cast(x, 'float32') as tf.Tensor4D);
        const pooled = run(padded ? (tf.pad(float, padding, -Infinity) as tf.Tensor4D) : float);
        return one(fromMap(x.dtype === 'float32' ? pooled : (tf.cast(pooled, x.dtype) as tf.Tensor4D), oneD));
      }
      if (!padded) return one(fromMap(run(x), oneD));
      // Average over the cells each window counts: the image, and the declared pads when count_include_pad.
      const counted = attrInt(node, 'count_include_pad', 0) === 1;
      const ones = tf.ones([1, h, w, 1]) as tf.Tensor4D;
      const mask = counted
        ? (tf.pad(
            tf.pad(
              ones,
              [
                [0, 0],
                [rows.padBegin, rows.padEnd],
                [columns.padBegin, columns.padEnd],
                [0, 0],
              ],
              1,
            ),
            [
              [0, 0],
              [0, extraH],
              [0, extraW],
              [0, 0],
            ],
          ) as tf.Tensor4D)
        : (tf.pad(ones, padding) as tf.Tensor4D);
      const sums = run(tf.pad(x, padding) as tf.Tensor4D);
      const counts = run(mask);
      return one(fromMap(tf.div(sums, counts) as tf.Tensor4D, oneD));
    },
  };
}

function globalPool(reduce: (x: tf.Tensor, axes: number[]) => tf.Tensor): OpSpec {
  return {
    run: (_node, [input], context) => {
      if (input!.kind === 'tensor' && input!.nhwc) return one(nhwcValue(reduce(input!.tensor, [1, 2])));
      const plain = plainTensor(input!, context.constants);
      const axes = Array.from({ length: plain.rank - 2 }, (_, i) => i + 2);
      if (plain.rank === 4) return one(nhwcValue(reduce(nhwcTensor(input!, context.constants), [1, 2])));
      return one(plainValue(reduce(plain, axes)));
    },
  };
}

/** y = x * a + b per channel (axis 1), with `a = scale / sqrt(var + eps)` and `b = B - mean * a` folded once. */
const BatchNormalization: OpSpec = {
  check: (node, info) => {
    if (attrInt(node, 'training_mode', 0) !== 0) return 'training mode';
    if (node.outputs.filter((name) => name !== '').length > 1) return 'its running mean and variance outputs (training mode)';
    if ([1, 2, 3, 4].some((i) => info.constant(i) === null)) return 'statistics computed by the graph (only constant ones are supported)';
    return null;
  },
  prepare: (node, info) => {
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => valuesOf(info.constant(i)!));
    const epsilon = attrFloat(node, 'epsilon', 1e-5);
    const a = scale!.map((s, k) => s / Math.sqrt(variance![k]! + epsilon));
    const b = bias!.map((value, k) => value - mean![k]! * a[k]!);
    const tensors = [tf.keep(tf.tensor1d(a, 'float32')), tf.keep(tf.tensor1d(b, 'float32'))];
    return { data: tensors, tensors };
  },
  run: (_node, [input], context, prepared) => {
    const [a, b] = prepared as [tf.Tensor1D, tf.Tensor1D];
    const shape = onnxShape(input!);
    if (shape.length === 4) return one(nhwcValue(tf.add(tf.mul(nhwcTensor(input!, context.constants), a), b)));
    const perChannel = [shape[1]!, ...new Array<number>(Math.max(0, shape.length - 2)).fill(1)];
    const x = plainTensor(input!, context.constants);
    return one(plainValue(tf.add(tf.mul(x, tf.reshape(a, perChannel)), tf.reshape(b, perChannel))));
  },
};

const Gemm: OpSpec = {
  run: (node, [a, b, c], context) => {
    const transA = attrInt(node, 'transA', 0) === 1;
    const transB = attrInt(node, 'transB', 0) === 1;
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    let y = tf.matMul(plainTensor(a!, context.constants) as tf.Tensor2D, plainTensor(b!, context.constants) as tf.Tensor2D, transA, transB);
    if (alpha !== 1) y = tf.mul(y, alpha);
    if (c !== null && c !== undefined) {
      const bias = plainTensor(c, context.constants);
      y = tf.add(y, beta === 1 ? bias : tf.mul(bias, beta));
    }
    return one(plainValue(y));
  },
};

const MatMul: OpSpec = {
  run: (_node, [a, b], context) => {
    let x = plainTensor(a!, context.constants);
    let y = plainTensor(b!, context.constants);
    const vectorA = x.rank === 1;
    const vectorB = y.rank === 1;
    if (vectorA) x = tf.expandDims(x, 0);
    if (vectorB) y = tf.expandDims(y, 1);
    // numpy matmul: batch dimensions broadcast.
    const rank = Math.max(x.rank, y.rank);
    const lift = (t: tf.Tensor): tf.Tensor =>
      t.rank < rank ? tf.reshape(t, [...new Array<number>(rank - t.rank).fill(1), ...t.shape]) : t;
    x = lift(x);
    y = lift(y);
    if (rank > 2) {
      const batch = x.shape.slice(0, -2).map((size, i) => Math.max(size, y.shape[i]!));
      x = tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
      y = tf.broadcastTo(y, [...batch, ...y.shape.slice(-2)]);
    }
    let out = tf.matMul(x, y);
    if (vectorA) out = tf.squeeze(out, [out.rank - 2]);
    if (vectorB) out = tf.squeeze(out, [out.rank - 1]);
    return one(plainValue(out));
  },
};

const Flatten: OpSpec = {
  run: (node, [input], context) => {
    const shape = onnxShape(input!);
    const axis = axisOf(attrInt(node, 'axis', 1), shape.length);
    return one(plainValue(tf.reshape(plainTensor(input!, context.constants), [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))])));
  },
};

/** Softmax-like ops: a single axis from opset 13 (default -1), the flattened 2-D form before (default 1). */
function softmaxLike(op: (x: tf.Tensor) => tf.Tensor): OpSpec {
  return {
    run: (node, [input], context) => {
      const shape = onnxShape(input!);
      const rank = shape.length;
      if (context.opset >= 13) {
        const axis = axisOf(attrInt(node, 'axis', -1), rank);
        if (input!.kind === 'tensor' && input!.nhwc) {
          const stored = NHWC_AXIS[axis]!;
          const perm = [...Array.from({ length: 4 }, (_, i) => i).filter((i) => i !== stored), stored];
          const inverse = perm.map((_, i) => perm.indexOf(i));
          return one(nhwcValue(stored === 3 ? op(input!.tensor) : tf.transpose(op(tf.transpose(input!.tensor, perm)), inverse)));
        }
        const x = plainTensor(input!, context.constants);
        if (axis === rank - 1) return one(plainValue(op(x)));
        const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
        const inverse = perm.map((_, i) => perm.indexOf(i));
        return one(plainValue(tf.transpose(op(tf.transpose(x, perm)), inverse)));
      }
      const axis = axisOf(attrInt(node, 'axis', 1), rank);
      const x = plainTensor(input!, context.constants);
      const flat = tf.reshape(x, [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))]);
      return one(plainValue(tf.reshape(op(flat), shape)));
    },
  };
}

const logSoftmax = (x: tf.Tensor): tf.Tensor => tf.sub(x, tf.logSumExp(x, -1, true));

export const NN_OPS: OpTable = {
  Conv,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool((x, axes) => tf.mean(x, axes, true)),
  GlobalMaxPool: globalPool((x, axes) => tf.max(x, axes, true)),
  BatchNormalization,
  Gemm,
  MatMul,
  Flatten,
  Softmax: softmaxLike((x) => tf.softmax(x)),
  LogSoftmax: softmaxLike(logSoftmax),
};

/** For the head detection (adapter.ts): a Gemm's weight as `W: [K, L]` when it is a constant. */
export function gemmWeights(node: OnnxNode, info: Pick<LoadInfo, 'constant'>): HostTensor | null {
  if (node.opType !== 'Gemm' && node.opType !== 'MatMul') return null;
  const weights = info.constant(1);
  if (weights === null || weights.shape.length !== 2) return null;
  if (node.opType === 'Gemm' && (attrInt(node, 'transA', 0) !== 0 || attrFloat(node, 'alpha', 1) !== 1)) return null;
  return node.opType === 'Gemm' && attrInt(node, 'transB', 0) === 1
    ? { ...weights, shape: [weights.shape[1]!, weights.shape[0]!], data: transpose2d(weights) }
    : weights;
}

function transpose2d(tensor: HostTensor): Float32Array {
  const [rows, columns] = tensor.shape as [number, number];
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r += 1) for (let k = 0; k < columns; k += 1) out[k * rows + r] = tensor.data[r * columns + k]!;
  return out;
}
