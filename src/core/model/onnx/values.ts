/**
 * The values that flow through an ONNX graph in the importer, and their layouts.
 *
 * ONNX is channels-first (`[N, C, H, W]`); TF.js convolutions and pools are channels-last. Image tensors
 * therefore run NHWC: a value is either a host tensor (constants and shape arithmetic, host.ts), or a TF.js
 * tensor in ONNX's own layout (`nhwc: false`), or a 4-D TF.js tensor stored NHWC whose ONNX shape is NCHW
 * (`nhwc: true`). Convolutions, pools and element-wise ops take and give NHWC; an op that needs ONNX's
 * layout (Reshape, Transpose, Flatten of a map larger than 1x1...) converts its input once. The layout is
 * invisible outside: the graph's outputs are converted back, and `onnxShape` always answers in ONNX terms.
 */
import * as tf from '@tensorflow/tfjs';
import { hostTensor, type HostTensor } from './host';

export type Value = { kind: 'host'; host: HostTensor } | { kind: 'tensor'; tensor: tf.Tensor; nhwc: boolean };

export const host = (tensor: HostTensor): Value => ({ kind: 'host', host: tensor });
export const plainValue = (tensor: tf.Tensor): Value => ({ kind: 'tensor', tensor, nhwc: false });
export const nhwcValue = (tensor: tf.Tensor): Value => ({ kind: 'tensor', tensor, nhwc: true });

/** ONNX NCHW axis -> the NHWC storage axis. */
export const NHWC_AXIS = [0, 3, 1, 2] as const;
/** NHWC storage axis -> ONNX NCHW axis. */
export const ONNX_AXIS = [0, 2, 3, 1] as const;

/** The value's shape in ONNX's layout. */
export function onnxShape(value: Value): number[] {
  if (value.kind === 'host') return [...value.host.shape];
  const shape = value.tensor.shape;
  return value.nhwc ? [shape[0]!, shape[3]!, shape[1]!, shape[2]!] : [...shape];
}

/** A host tensor as a TF.js tensor (integers as int32; float64 is already float32 here). */
export function tensorOfHost(tensor: HostTensor): tf.Tensor {
  if (tensor.dtype === 'float32') return tf.tensor(tensor.data as Float32Array, tensor.shape, 'float32');
  if (tensor.dtype === 'bool')
    return tf.tensor(
      Array.from(tensor.data, (v) => v !== 0),
      tensor.shape,
      'bool',
    );
  return tf.tensor(
    Int32Array.from(tensor.data, (v) => (v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : v)),
    tensor.shape,
    'int32',
  );
}

/** Caches the TF.js copies of host constants for the life of a graph (created kept, freed by `dispose`). */
export class ConstantCache {
  private readonly plain = new Map<HostTensor, tf.Tensor>();
  private readonly channelsLast = new Map<HostTensor, tf.Tensor>();

  /** The constant in ONNX's layout. */
  plainOf(tensor: HostTensor): tf.Tensor {
    let cached = this.plain.get(tensor);
    if (cached === undefined) {
      cached = tf.keep(tensorOfHost(tensor));
      this.plain.set(tensor, cached);
    }
    return cached;
  }

  /** The constant broadcastable against an NHWC map (see {@link toChannelsLast}). */
  channelsLastOf(tensor: HostTensor): tf.Tensor {
    let cached = this.channelsLast.get(tensor);
    if (cached === undefined) {
      const made = tf.tidy(() => toChannelsLast(tensorOfHost(tensor)));
      cached = tf.keep(made);
      this.channelsLast.set(tensor, cached);
    }
    return cached;
  }

  dispose(): void {
    for (const tensor of [...this.plain.values(), ...this.channelsLast.values()]) tensor.dispose();
    this.plain.clear();
    this.channelsLast.clear();
  }
}

/**
 * A tensor in ONNX's layout of rank <= 4 made broadcastable against an NHWC map: numpy broadcasting aligns
 * it with `[N, C, H, W]` from the right, so it is padded to rank 4 with leading 1s and moved channels-last.
 */
export function toChannelsLast(tensor: tf.Tensor): tf.Tensor {
  if (tensor.rank > 4) throw new RangeError(`a ${tensor.rank}-D tensor does not broadcast against an image map`);
  if (tensor.size === 1) return tensor.rank === 0 ? tensor : tf.reshape(tensor, []);
  const shape = [...new Array<number>(4 - tensor.rank).fill(1), ...tensor.shape];
  return tf.transpose(tf.reshape(tensor, shape), [0, 2, 3, 1]);
}

/** The value as a TF.js tensor in ONNX's layout. */
export function plainTensor(value: Value, constants: ConstantCache): tf.Tensor {
  if (value.kind === 'host') return constants.plainOf(value.host);
  if (!value.nhwc) return value.tensor;
  const [, h, w] = value.tensor.shape;
  // A 1x1 map has the same element order in both layouts: a reshape, not a transpose.
  if (h === 1 && w === 1) return tf.reshape(value.tensor, onnxShape(value));
  return tf.transpose(value.tensor, [0, 3, 1, 2]);
}

/** The value as an NHWC TF.js tensor (it must be 4-D in ONNX's layout). */
export function nhwcTensor(value: Value, constants: ConstantCache): tf.Tensor4D {
  if (value.kind === 'tensor' && value.nhwc) return value.tensor as tf.Tensor4D;
  const plain = plainTensor(value, constants);
  if (plain.rank !== 4) throw new RangeError(`expected a 4-D image tensor, got shape [${plain.shape.join(', ')}]`);
  const [, , h, w] = plain.shape;
  if (h === 1 && w === 1) return tf.reshape(plain, [plain.shape[0]!, 1, 1, plain.shape[1]!]) as tf.Tensor4D;
  return tf.transpose(plain, [0, 2, 3, 1]) as tf.Tensor4D;
}

/** The value as a host tensor when it is one (constants, shape arithmetic), else null. */
export const hostOf = (value: Value | null | undefined): HostTensor | null =>
  value !== null && value !== undefined && value.kind === 'host' ? value.host : null;

/** A scalar host tensor. */
export const scalar = (dtype: HostTensor['dtype'], value: number): HostTensor => hostTensor(dtype, [], [value]);
