/**
 * The shape and data-movement ONNX operators (opset 9-18), and the reductions. Shape arithmetic — Shape,
 * Gather, Unsqueeze, Concat, Slice, Cast... on small host tensors — runs on the host, so that a graph
 * exported with `x.view(batch, ...)` works for any batch size. Ops that reorder elements (Reshape,
 * Transpose, Flatten) work in ONNX's layout and convert an NHWC map once; those that only pick along an
 * axis (Concat, Split, Slice, Gather, Pad, the reductions) keep NHWC and move the axis instead.
 */
import * as tf from '@tensorflow/tfjs';
import { halfFormatOf, roundTensorToHalf, roundToHalf } from './half';
import {
  broadcastShapes,
  hostBinary,
  hostConcat,
  hostGather,
  hostSlice,
  hostTensor,
  hostTranspose,
  intVector,
  sizeOf,
  valuesOf,
  type HostDType,
  type HostTensor,
} from './host';
import { attrInt, attrInts, attrString, attrTensor, axisOf, one, type OpSpec, type OpTable } from './op';
import type { OnnxNode } from './proto';
import { NHWC_AXIS, host, hostOf, nhwcValue, onnxShape, plainTensor, plainValue, type Value } from './values';

/** Host values past this size become TF.js tensors. */
const HOST_LIMIT = 4096;

const isMap = (value: Value | null | undefined): value is Value & { kind: 'tensor'; nhwc: true } => value?.kind === 'tensor' && value.nhwc;

/** A constant integer input (axes, shapes, pads...), or an attribute before the opset moved it to an input. */
function intsFrom(
  node: OnnxNode,
  inputs: ReadonlyArray<Value | null>,
  index: number,
  attribute: string,
  sinceOpset: number,
  opset: number,
): number[] | undefined {
  if (opset < sinceOpset) return attrInts(node, attribute);
  const value = hostOf(inputs[index]);
  if (inputs[index] !== null && inputs[index] !== undefined && value === null)
    throw new RangeError(`${node.opType} "${node.name}": its ${attribute} input must be a constant`);
  return value === null ? undefined : valuesOf(value);
}

const ONNX_TYPES: Record<number, HostDType> = { 1: 'float32', 10: 'float32', 11: 'float32', 16: 'float32', 9: 'bool' };
const castType = (to: number): HostDType => ONNX_TYPES[to] ?? 'int';

function castHost(tensor: HostTensor, dtype: HostDType): HostTensor {
  if (dtype === 'int' && tensor.dtype === 'float32')
    return hostTensor(
      'int',
      tensor.shape,
      Array.from(tensor.data, (v) => Math.trunc(v)),
    );
  return hostTensor(dtype, tensor.shape, tensor.data);
}

const tfType = (dtype: HostDType): 'float32' | 'int32' | 'bool' => (dtype === 'float32' ? 'float32' : dtype === 'int' ? 'int32' : 'bool');

/** `[begin, end, step]` per axis of a Slice, resolved against the axis sizes (ONNX clamping rules). */
function sliceRanges(shape: readonly number[], starts: number[], ends: number[], axes: number[], steps: number[]) {
  const ranges = shape.map((size) => ({ begin: 0, end: size, step: 1 }));
  axes.forEach((rawAxis, i) => {
    const axis = axisOf(rawAxis, shape.length);
    const size = shape[axis]!;
    const step = steps[i] ?? 1;
    let start = starts[i]!;
    let end = ends[i]!;
    start = start < 0 ? start + size : start;
    end = end < 0 ? end + size : end;
    if (step > 0) ranges[axis] = { begin: Math.max(0, Math.min(size, start)), end: Math.max(0, Math.min(size, end)), step };
    else ranges[axis] = { begin: Math.max(-1, Math.min(size - 1, start)), end: Math.max(-1, Math.min(size - 1, end)), step };
  });
  return ranges;
}

/** Slices a tensor stored in `layout` (axes in ONNX terms mapped through `storage`). */
function sliceTensor(x: tf.Tensor, ranges: ReturnType<typeof sliceRanges>, storage: (axis: number) => number): tf.Tensor {
  const rank = x.rank;
  const stored = new Array<{ begin: number; end: number; step: number }>(rank);
  ranges.forEach((range, axis) => {
    stored[storage(axis)] = range;
  });
  const reversed = stored.map((range, axis) => (range.step < 0 ? axis : -1)).filter((axis) => axis >= 0);
  const flipped = reversed.length > 0 ? tf.reverse(x, reversed) : x;
  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  stored.forEach((range, axis) => {
    const size = x.shape[axis]!;
    if (range.step > 0) {
      begin.push(range.begin);
      end.push(Math.max(range.begin, range.end));
      strides.push(range.step);
    } else {
      const b = size - 1 - range.begin;
      const e = size - 1 - range.end;
      begin.push(b);
      end.push(Math.max(b, e));
      strides.push(-range.step);
    }
  });
  if (end.some((e, i) => e === begin[i])) {
    return tf.zeros(
      end.map((e, i) => Math.ceil((e - begin[i]!) / strides[i]!)),
      x.dtype,
    );
  }
  return tf.stridedSlice(flipped, begin, end, strides);
}

/** The reductions: axes from an attribute, or an input (ReduceSum from opset 13, the others from 18). */
function reduction(op: (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor, axesInputSince: number): OpSpec {
  return {
    run: (node, inputs, context) => {
      const [input] = inputs;
      const shape = onnxShape(input!);
      const rank = shape.length;
      const keep = attrInt(node, 'keepdims', 1) === 1;
      let axes = intsFrom(node, inputs, 1, 'axes', axesInputSince, context.opset);
      if (axes === undefined || axes.length === 0) {
        if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return one(input!);
        axes = Array.from({ length: rank }, (_, i) => i);
      }
      const normalised = [...new Set(axes.map((axis) => axisOf(axis, rank)))];
      if (isMap(input) && (keep || (normalised.includes(2) && normalised.includes(3)))) {
        const reduced = op(
          input.tensor,
          normalised.map((axis) => NHWC_AXIS[axis]!),
          keep,
        );
        return one(keep ? nhwcValue(reduced) : plainValue(reduced));
      }
      return one(plainValue(op(plainTensor(input!, context.constants), normalised, keep)));
    },
  };
}

function padEdge(x: tf.Tensor, paddings: Array<[number, number]>): tf.Tensor {
  let out = x;
  paddings.forEach(([before, after], axis) => {
    if (before === 0 && after === 0) return;
    const size = out.shape[axis]!;
    const edge = (index: number, count: number): tf.Tensor => {
      const beginAt = out.shape.map((_, a) => (a === axis ? index : 0));
      const sizes = out.shape.map((s, a) => (a === axis ? 1 : s));
      const reps = out.shape.map((_, a) => (a === axis ? count : 1));
      return tf.tile(tf.slice(out, beginAt, sizes), reps);
    };
    const parts = [...(before > 0 ? [edge(0, before)] : []), out, ...(after > 0 ? [edge(size - 1, after)] : [])];
    out = tf.concat(parts, axis);
  });
  return out;
}

const Shape: OpSpec = {
  run: (node, [input], context) => {
    const shape = onnxShape(input!);
    const rank = shape.length;
    const start = context.opset >= 15 ? axisOf(attrInt(node, 'start', 0), rank) : 0;
    const end = context.opset >= 15 && node.attributes.has('end') ? axisOf(attrInt(node, 'end', rank), rank) : rank;
    return one(host(intVector(shape.slice(Math.max(0, start), Math.min(rank, end)))));
  },
};

const Reshape: OpSpec = {
  run: (node, [input, target], context) => {
    const shape = onnxShape(input!);
    const requested = valuesOf(hostOf(target)!);
    const allowZero = attrInt(node, 'allowzero', 0) === 1;
    const resolved = requested.map((size, i) => (size === 0 && !allowZero ? shape[i]! : size));
    const known = resolved.filter((size) => size !== -1).reduce((product, size) => product * size, 1);
    const full = resolved.map((size) => (size === -1 ? sizeOf(shape) / known : size));
    const data = hostOf(input);
    if (data !== null) return one(host({ ...data, shape: full }));
    return one(plainValue(tf.reshape(plainTensor(input!, context.constants), full)));
  },
};

function squeezeLike(kind: 'squeeze' | 'unsqueeze'): OpSpec {
  return {
    run: (node, inputs, context) => {
      const [input] = inputs;
      const shape = onnxShape(input!);
      const axes = intsFrom(node, inputs, 1, 'axes', 13, context.opset);
      let out: number[];
      if (kind === 'squeeze') {
        const drop = new Set(
          (axes ?? shape.map((size, i) => (size === 1 ? i : -1)).filter((i) => i >= 0)).map((axis) => axisOf(axis, shape.length)),
        );
        out = shape.filter((_, i) => !drop.has(i));
      } else {
        const rank = shape.length + axes!.length;
        const add = new Set(axes!.map((axis) => axisOf(axis, rank)));
        const rest = [...shape];
        out = Array.from({ length: rank }, (_, i) => (add.has(i) ? 1 : rest.shift()!));
      }
      const data = hostOf(input);
      if (data !== null) return one(host({ ...data, shape: out }));
      return one(plainValue(tf.reshape(plainTensor(input!, context.constants), out)));
    },
  };
}

const Concat: OpSpec = {
  run: (node, inputs, context) => {
    const present = inputs.filter((value): value is Value => value !== null);
    const rank = onnxShape(present[0]!).length;
    const axis = axisOf(attrInt(node, 'axis', 0), rank);
    const hosts = present.map(hostOf);
    if (hosts.every((tensor): tensor is HostTensor => tensor !== null)) return one(host(hostConcat(hosts, axis)));
    if (present.every(isMap))
      return one(
        nhwcValue(
          tf.concat(
            present.map((value) => value.tensor),
            NHWC_AXIS[axis]!,
          ),
        ),
      );
    return one(
      plainValue(
        tf.concat(
          present.map((value) => plainTensor(value, context.constants)),
          axis,
        ),
      ),
    );
  },
};

const Split: OpSpec = {
  run: (node, inputs, context) => {
    const [input] = inputs;
    const shape = onnxShape(input!);
    const axis = axisOf(attrInt(node, 'axis', 0), shape.length);
    const outputs = node.outputs.length;
    const size = shape[axis]!;
    let sizes = intsFrom(node, inputs, 1, 'split', 13, context.opset);
    if (sizes === undefined) {
      const parts = context.opset >= 18 ? attrInt(node, 'num_outputs', outputs) : outputs;
      const chunk = Math.ceil(size / parts);
      sizes = Array.from({ length: parts }, (_, i) => Math.min(chunk, size - i * chunk));
    }
    if (isMap(input)) return tf.split(input.tensor, sizes, NHWC_AXIS[axis]!).map(nhwcValue);
    return tf.split(plainTensor(input!, context.constants), sizes, axis).map(plainValue);
  },
};

const Slice: OpSpec = {
  run: (node, inputs, context) => {
    const [input] = inputs;
    const shape = onnxShape(input!);
    const opset = context.opset;
    const starts = opset >= 10 ? valuesOf(hostOf(inputs[1])!) : attrInts(node, 'starts')!;
    const ends = opset >= 10 ? valuesOf(hostOf(inputs[2])!) : attrInts(node, 'ends')!;
    const axes =
      (opset >= 10 ? (hostOf(inputs[3]) === null ? undefined : valuesOf(hostOf(inputs[3])!)) : attrInts(node, 'axes')) ??
      starts.map((_, i) => i);
    const steps = opset >= 10 && hostOf(inputs[4]) !== null ? valuesOf(hostOf(inputs[4])!) : starts.map(() => 1);
    const data = hostOf(input);
    if (data !== null) return one(host(hostSlice(data, starts, ends, axes, steps)));
    const ranges = sliceRanges(shape, starts, ends, axes, steps);
    if (isMap(input)) return one(nhwcValue(sliceTensor(input.tensor, ranges, (axis) => NHWC_AXIS[axis]!)));
    return one(plainValue(sliceTensor(plainTensor(input!, context.constants), ranges, (axis) => axis)));
  },
};

const Gather: OpSpec = {
  run: (node, [input, indices], context) => {
    const shape = onnxShape(input!);
    const axis = axisOf(attrInt(node, 'axis', 0), shape.length);
    const data = hostOf(input);
    const index = hostOf(indices);
    if (data !== null && index !== null) return one(host(hostGather(data, index, axis)));
    const size = shape[axis]!;
    const picked =
      index !== null
        ? tf.tensor(
            valuesOf(index).map((i) => (i < 0 ? i + size : i)),
            index.shape,
            'int32',
          )
        : tf.cast(plainTensor(indices!, context.constants), 'int32');
    if (isMap(input) && index !== null && index.shape.length === 1)
      return one(nhwcValue(tf.gather(input.tensor, picked, NHWC_AXIS[axis]!)));
    return one(plainValue(tf.gather(plainTensor(input!, context.constants), picked, axis)));
  },
};

const Pad: OpSpec = {
  check: (node) =>
    ['constant', 'reflect', 'edge'].includes(attrString(node, 'mode', 'constant')) ? null : `mode ${attrString(node, 'mode', '')}`,
  run: (node, inputs, context) => {
    const [input] = inputs;
    const shape = onnxShape(input!);
    const rank = shape.length;
    const opset = context.opset;
    const pads = opset >= 11 ? valuesOf(hostOf(inputs[1])!) : (attrInts(node, 'pads') ?? attrInts(node, 'paddings')!);
    const value = opset >= 11 ? (hostOf(inputs[2])?.data[0] ?? 0) : attrFloatOr(node, 'value', 0);
    const axes =
      opset >= 18 && hostOf(inputs[3]) !== null
        ? valuesOf(hostOf(inputs[3])!).map((axis) => axisOf(axis, rank))
        : Array.from({ length: rank }, (_, i) => i);
    const paddings: Array<[number, number]> = shape.map(() => [0, 0]);
    axes.forEach((axis, i) => {
      paddings[axis] = [pads[i]!, pads[i + axes.length]!];
    });
    const mode = attrString(node, 'mode', 'constant');
    const apply = (x: tf.Tensor, stored: Array<[number, number]>): tf.Tensor => {
      if (stored.some(([a, b]) => a < 0 || b < 0)) {
        // Negative pads crop.
        const begin = stored.map(([a]) => Math.max(0, -a));
        const sizes = stored.map(([a, b], i) => x.shape[i]! - Math.max(0, -a) - Math.max(0, -b));
        return apply(
          tf.slice(x, begin, sizes),
          stored.map(([a, b]) => [Math.max(0, a), Math.max(0, b)]),
        );
      }
      if (mode === 'reflect') return tf.mirrorPad(x, stored, 'reflect');
      if (mode === 'edge') return padEdge(x, stored);
      return tf.pad(x, stored, value);
    };
    if (isMap(input)) {
      // NHWC storage order of the ONNX axes [N, C, H, W].
      const reordered: Array<[number, number]> = [paddings[0]!, paddings[2]!, paddings[3]!, paddings[1]!];
      return one(nhwcValue(apply(input.tensor, reordered)));
    }
    return one(plainValue(apply(plainTensor(input!, context.constants), paddings)));
  },
};

function attrFloatOr(node: OnnxNode, name: string, fallback: number): number {
  const value = node.attributes.get(name);
  return typeof value === 'number' ? value : fallback;
}

const Transpose: OpSpec = {
  run: (node, [input], context) => {
    const shape = onnxShape(input!);
    const perm = attrInts(node, 'perm') ?? shape.map((_, i) => shape.length - 1 - i);
    const data = hostOf(input);
    if (data !== null && sizeOf(shape) <= HOST_LIMIT) return one(host(hostTranspose(data, perm)));
    return one(plainValue(tf.transpose(plainTensor(input!, context.constants), perm)));
  },
};

const Cast: OpSpec = {
  check: (node) => {
    const to = attrInt(node, 'to', 1);
    if ([8, 14, 15].includes(to)) return 'a cast to strings or complex numbers';
    // ONNX releases round to bfloat16 differently (truncation in the reference before 1.14, ties to even after).
    if (to === 16) return 'a cast to bfloat16 (ONNX versions disagree on its rounding)';
    return null;
  },
  run: (node, [input], context) => {
    const to = attrInt(node, 'to', 1);
    const dtype = castType(to);
    // float16 / bfloat16 are float32 values rounded to what the 16-bit format holds (half.ts).
    const half = halfFormatOf(to);
    const data = hostOf(input);
    if (data !== null && sizeOf(data.shape) <= HOST_LIMIT) {
      const cast = castHost(data, dtype);
      return one(
        host(
          half === null
            ? cast
            : hostTensor(
                'float32',
                cast.shape,
                Array.from(cast.data, (v) => roundToHalf(v, half)),
              ),
        ),
      );
    }
    const x = input!.kind === 'tensor' ? input!.tensor : plainTensor(input!, context.constants);
    const cast = half === null ? tf.cast(x, tfType(dtype)) : tf.tidy(() => roundTensorToHalf(tf.cast(x, 'float32'), half));
    return one(input!.kind === 'tensor' ? { kind: 'tensor', tensor: cast, nhwc: input!.nhwc } : plainValue(cast));
  },
};

const Constant: OpSpec = {
  check: (node) => (node.attributes.has('sparse_value') ? 'a sparse value' : null),
  run: (node) => {
    const tensor = attrTensor(node, 'value');
    if (tensor !== null) return one(host(tensor));
    if (node.attributes.has('value_float')) return one(host(hostTensor('float32', [], [attrFloatOr(node, 'value_float', 0)])));
    if (node.attributes.has('value_int')) return one(host(hostTensor('int', [], [attrInt(node, 'value_int', 0)])));
    const floats = node.attributes.get('value_floats');
    if (Array.isArray(floats)) return one(host(hostTensor('float32', [floats.length], floats as number[])));
    const ints = attrInts(node, 'value_ints');
    if (ints !== undefined) return one(host(intVector(ints)));
    throw new RangeError(`Constant "${node.name}" has no value the importer reads`);
  },
};

const ConstantOfShape: OpSpec = {
  run: (node, [shapeInput]) => {
    const shape = valuesOf(hostOf(shapeInput)!);
    const value = attrTensor(node, 'value') ?? hostTensor('float32', [1], [0]);
    const filled = value.data[0] ?? 0;
    if (sizeOf(shape) <= HOST_LIMIT) return one(host(hostTensor(value.dtype, shape, new Array<number>(sizeOf(shape)).fill(filled))));
    return one(plainValue(tf.fill(shape, filled, tfType(value.dtype))));
  },
};

const Expand: OpSpec = {
  run: (_node, [input, shapeInput], context) => {
    const target = valuesOf(hostOf(shapeInput)!);
    const shape = broadcastShapes(onnxShape(input!), target)!;
    const data = hostOf(input);
    if (data !== null && sizeOf(shape) <= HOST_LIMIT)
      return one(host(hostBinary(data, hostTensor(data.dtype, shape, new Array<number>(sizeOf(shape)).fill(0)), (x) => x, data.dtype)));
    return one(plainValue(tf.broadcastTo(plainTensor(input!, context.constants), shape)));
  },
};

const Tile: OpSpec = {
  run: (_node, [input, repeats], context) => one(plainValue(tf.tile(plainTensor(input!, context.constants), valuesOf(hostOf(repeats)!)))),
};

const Range: OpSpec = {
  run: (_node, [start, limit, delta]) => {
    const [a, b, d] = [start, limit, delta].map((value) => hostOf(value)!);
    const count = Math.max(0, Math.ceil((b!.data[0]! - a!.data[0]!) / d!.data[0]!));
    return one(
      host(
        hostTensor(
          a!.dtype,
          [count],
          Array.from({ length: count }, (_, i) => a!.data[0]! + i * d!.data[0]!),
        ),
      ),
    );
  },
};

const Size: OpSpec = { run: (_node, [input]) => one(host(hostTensor('int', [], [sizeOf(onnxShape(input!))]))) };

export const SHAPE_OPS: OpTable = {
  Shape,
  Size,
  Reshape,
  Squeeze: squeezeLike('squeeze'),
  Unsqueeze: squeezeLike('unsqueeze'),
  Concat,
  Split,
  Slice,
  Gather,
  Pad,
  Transpose,
  Cast,
  Constant,
  ConstantOfShape,
  Expand,
  Tile,
  Range,
  ReduceMean: reduction((x, axes, keep) => tf.mean(x, axes, keep), 18),
  ReduceSum: reduction((x, axes, keep) => tf.sum(x, axes, keep), 13),
  ReduceMax: reduction((x, axes, keep) => tf.max(x, axes, keep), 18),
  ReduceMin: reduction((x, axes, keep) => tf.min(x, axes, keep), 18),
  ReduceProd: reduction((x, axes, keep) => tf.prod(x, axes, keep), 18),
  ReduceSumSquare: reduction((x, axes, keep) => tf.sum(tf.square(x), axes, keep), 18),
  ReduceL1: reduction((x, axes, keep) => tf.sum(tf.abs(x), axes, keep), 18),
  ReduceL2: reduction((x, axes, keep) => tf.sqrt(tf.sum(tf.square(x), axes, keep)), 18),
  ReduceLogSumExp: reduction((x, axes, keep) => tf.logSumExp(x, axes, keep), 18),
};
