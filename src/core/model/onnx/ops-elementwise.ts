/**
 * Element-wise ONNX operators (opset 9-18): arithmetic with numpy broadcasting, comparisons and logic, and
 * activations. They keep the layout of their input: an NHWC map stays NHWC, and a constant or a smaller
 * operand is made broadcastable against it (values.ts `toChannelsLast`). When every input is a host tensor
 * (shape arithmetic), arithmetic and comparisons run on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { hostBinary, hostTensor, sizeOf, type HostDType } from './host';
import { attrFloat, attrInt, one, type OpSpec, type OpTable, type RunContext } from './op';
import { hostOf, host, nhwcTensor, nhwcValue, onnxShape, plainTensor, plainValue, toChannelsLast, type Value } from './values';

/** Host arithmetic is for shape arithmetic: small tensors only. */
const HOST_LIMIT = 4096;

/** The operand as a tensor broadcastable against an NHWC map. */
function channelsLast(value: Value, context: RunContext): tf.Tensor {
  if (value.kind === 'host') return context.constants.channelsLastOf(value.host);
  if (value.nhwc) return value.tensor;
  return value.tensor.rank === 4 ? nhwcTensor(value, context.constants) : toChannelsLast(value.tensor);
}

/** Runs `op` on tensors, NHWC when any input is an NHWC map, else in ONNX's layout. */
export function broadcastRun(inputs: readonly Value[], context: RunContext, op: (...tensors: tf.Tensor[]) => tf.Tensor): Value {
  if (inputs.some((value) => value.kind === 'tensor' && value.nhwc))
    return nhwcValue(op(...inputs.map((value) => channelsLast(value, context))));
  return plainValue(op(...inputs.map((value) => plainTensor(value, context.constants))));
}

/**
 * Before opset 7, binary ops broadcast only with `broadcast=1`, B aligned with A at `axis` (default: B's
 * dims are A's last ones); from opset 7 numpy broadcasting. The legacy form becomes numpy's by giving B
 * trailing 1s.
 */
function legacyBroadcast(node: Parameters<OpSpec['run']>[0], a: Value, b: Value, context: RunContext): Value {
  if (context.opset >= 7 || node.attributes.get('broadcast') !== 1 || !node.attributes.has('axis')) return b;
  const rankA = onnxShape(a).length;
  const shapeB = onnxShape(b);
  const axis = attrInt(node, 'axis', rankA - shapeB.length);
  const trailing = rankA - (axis < 0 ? axis + rankA : axis) - shapeB.length;
  if (trailing <= 0) return b;
  const shape = [...shapeB, ...new Array<number>(trailing).fill(1)];
  const data = hostOf(b);
  return data !== null ? host({ ...data, shape }) : plainValue(tf.reshape(plainTensor(b, context.constants), shape));
}

function binary(
  op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  onHost?: (x: number, y: number) => number,
  hostType?: (a: HostDType) => HostDType,
): OpSpec {
  return {
    run: (node, [a, rawB], context) => {
      const b = legacyBroadcast(node, a!, rawB!, context);
      const ha = hostOf(a);
      const hb = hostOf(b);
      if (onHost !== undefined && ha !== null && hb !== null && sizeOf(ha.shape) <= HOST_LIMIT && sizeOf(hb.shape) <= HOST_LIMIT) {
        const dtype = hostType?.(ha.dtype) ?? (ha.dtype === 'float32' || hb.dtype === 'float32' ? 'float32' : ha.dtype);
        return one(host(hostBinary(ha, hb, onHost, dtype)));
      }
      return one(broadcastRun([a!, b!], context, op));
    },
  };
}

function variadic(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, finish?: (sum: tf.Tensor, count: number) => tf.Tensor): OpSpec {
  return {
    run: (_node, inputs, context) => {
      const present = inputs.filter((value): value is Value => value !== null);
      return one(
        broadcastRun(present, context, (...tensors) => {
          const reduced = tensors.slice(1).reduce((accumulated, tensor) => op(accumulated, tensor), tensors[0]!);
          return finish === undefined ? (tensors.length === 1 ? tf.clone(reduced) : reduced) : finish(reduced, tensors.length);
        }),
      );
    },
  };
}

function unary(op: (x: tf.Tensor, node: Parameters<OpSpec['run']>[0]) => tf.Tensor, onHost?: (x: number) => number): OpSpec {
  return {
    run: (node, [x], context) => {
      if (x!.kind === 'tensor') return one({ kind: 'tensor', tensor: op(x!.tensor, node), nhwc: x!.nhwc });
      if (onHost !== undefined && sizeOf(x!.host.shape) <= HOST_LIMIT) {
        return one(host(hostTensor(x!.host.dtype, x!.host.shape, Array.from(x!.host.data, onHost))));
      }
      return one(plainValue(op(plainTensor(x!, context.constants), node)));
    },
  };
}

const asBool = (x: number): number => (x !== 0 ? 1 : 0);
const boolType = (): HostDType => 'bool';

/** The scalar limit of a Clip: an attribute before opset 11, an (optional, constant) input after. */
function clipLimit(node: Parameters<OpSpec['run']>[0], value: Value | null | undefined, name: 'min' | 'max', opset: number): number {
  if (opset < 11) return attrFloat(node, name, name === 'min' ? -Infinity : Infinity);
  const constant = hostOf(value);
  return constant === null ? (name === 'min' ? -Infinity : Infinity) : constant.data[0]!;
}

export const ELEMENTWISE_OPS: OpTable = {
  Add: binary(tf.add, (x, y) => x + y),
  Sub: binary(tf.sub, (x, y) => x - y),
  Mul: binary(tf.mul, (x, y) => x * y),
  Div: binary(
    (a, b) => (a.dtype === 'int32' ? tf.cast(tf.div(tf.cast(a, 'float32'), tf.cast(b, 'float32')), 'int32') : tf.div(a, b)),
    (x, y) => x / y,
  ),
  Pow: binary(tf.pow, (x, y) => x ** y),
  Max: variadic(tf.maximum),
  Min: variadic(tf.minimum),
  Sum: variadic(tf.add),
  Mean: variadic(tf.add, (sum, count) => tf.div(sum, count)),
  Equal: binary(tf.equal, (x, y) => (x === y ? 1 : 0), boolType),
  Less: binary(tf.less, (x, y) => (x < y ? 1 : 0), boolType),
  LessOrEqual: binary(tf.lessEqual, (x, y) => (x <= y ? 1 : 0), boolType),
  Greater: binary(tf.greater, (x, y) => (x > y ? 1 : 0), boolType),
  GreaterOrEqual: binary(tf.greaterEqual, (x, y) => (x >= y ? 1 : 0), boolType),
  And: binary(tf.logicalAnd, (x, y) => asBool(x) & asBool(y), boolType),
  Or: binary(tf.logicalOr, (x, y) => asBool(x) | asBool(y), boolType),
  Xor: binary(tf.logicalXor, (x, y) => asBool(x) ^ asBool(y), boolType),
  Not: unary((x) => tf.logicalNot(x)),
  Where: {
    run: (_node, [condition, a, b], context) =>
      one(broadcastRun([condition!, a!, b!], context, (c, x, y) => tf.where(tf.cast(c, 'bool'), x, y))),
  },
  Abs: unary((x) => tf.abs(x), Math.abs),
  Neg: unary(
    (x) => tf.neg(x),
    (v) => -v,
  ),
  Reciprocal: unary(
    (x) => tf.reciprocal(x),
    (v) => 1 / v,
  ),
  Sqrt: unary((x) => tf.sqrt(x), Math.sqrt),
  Exp: unary((x) => tf.exp(x), Math.exp),
  Log: unary((x) => tf.log(x), Math.log),
  Floor: unary((x) => tf.floor(x), Math.floor),
  Ceil: unary((x) => tf.ceil(x), Math.ceil),
  Round: unary((x) => tf.round(x)),
  // Not tf.sign: the wasm backend's Sign gives 0 for |x| below about 1e-7.
  Sign: unary((x) => tf.tidy(() => tf.sub(tf.cast(tf.greater(x, 0), x.dtype), tf.cast(tf.less(x, 0), x.dtype))), Math.sign),
  Sin: unary((x) => tf.sin(x)),
  Cos: unary((x) => tf.cos(x)),
  Erf: unary((x) => tf.erf(x)),
  Relu: unary((x) => tf.relu(x)),
  Sigmoid: unary((x) => tf.sigmoid(x)),
  Tanh: unary((x) => tf.tanh(x)),
  Softplus: unary((x) => tf.softplus(x)),
  Softsign: unary((x) => tf.div(x, tf.add(tf.abs(x), 1))),
  LeakyRelu: unary((x, node) => tf.leakyRelu(x, attrFloat(node, 'alpha', 0.01))),
  Elu: unary((x, node) => {
    const alpha = attrFloat(node, 'alpha', 1);
    return tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.sub(tf.exp(x), 1)));
  }),
  Selu: unary((x, node) => {
    const alpha = attrFloat(node, 'alpha', 1.6732632423543772);
    const gamma = attrFloat(node, 'gamma', 1.0507009873554805);
    return tf.mul(gamma, tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.sub(tf.exp(x), 1))));
  }),
  HardSigmoid: unary((x, node) => tf.clipByValue(tf.add(tf.mul(x, attrFloat(node, 'alpha', 0.2)), attrFloat(node, 'beta', 0.5)), 0, 1)),
  HardSwish: unary((x) => tf.mul(x, tf.clipByValue(tf.add(tf.div(x, 6), 0.5), 0, 1))),
  Clip: {
    run: (node, [x, min, max], context) => {
      const low = clipLimit(node, min, 'min', context.opset);
      const high = clipLimit(node, max, 'max', context.opset);
      const clip = (tensor: tf.Tensor): tf.Tensor => {
        let out = tensor;
        if (low !== -Infinity) out = tf.maximum(out, tf.scalar(low, tensor.dtype));
        if (high !== Infinity) out = tf.minimum(out, tf.scalar(high, tensor.dtype));
        return out === tensor ? tf.clone(tensor) : out;
      };
      if (x!.kind === 'tensor') return one({ kind: 'tensor', tensor: clip(x!.tensor), nhwc: x!.nhwc });
      return one(plainValue(clip(plainTensor(x!, context.constants))));
    },
  },
  PRelu: {
    run: (_node, [x, rawSlope], context) => {
      // Opset 6 (and PyTorch's old exports) give one slope per channel as a vector: it belongs on axis 1.
      const shape = onnxShape(x!);
      const slopeShape = onnxShape(rawSlope!);
      let slope = rawSlope!;
      if (slopeShape.length === 1 && shape.length > 2 && slopeShape[0] === shape[1] && shape[shape.length - 1] !== slopeShape[0]) {
        const perChannel = [slopeShape[0]!, ...new Array<number>(shape.length - 2).fill(1)];
        const data = hostOf(slope);
        slope =
          data !== null ? host({ ...data, shape: perChannel }) : plainValue(tf.reshape(plainTensor(slope, context.constants), perChannel));
      }
      return one(broadcastRun([x!, slope], context, (t, s) => tf.where(tf.less(t, 0), tf.mul(t, s), t)));
    },
  },
  Identity: { run: (_node, [x]) => one(x!) },
  Dropout: {
    check: (node, info) => {
      if (node.outputs.length > 1 && node.outputs[1] !== '') return 'its mask output';
      if ((node.inputs[2] ?? '') !== '' && (info.constant(2)?.data[0] ?? 1) !== 0) return 'training mode';
      return null;
    },
    run: (_node, [x]) => one(x!),
  },
};
