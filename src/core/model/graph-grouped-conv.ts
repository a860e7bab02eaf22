/**
 * Grouped convolutions in TF.js graph models. TensorFlow's Conv2D is grouped when its filter
 * `[kh, kw, p, O]` has fewer input channels p than the input's C_in (groups g = C_in / p): what a Keras
 * `Conv2D(groups=g)` becomes when saved and converted (ResNeXt, or a Keras ResNeSt port's split attention).
 * TF.js's graph executor hands every Conv2D to tf.conv2d, which refuses such a filter. This module
 * registers `Conv2D` and `_FusedConv2D` (the converter's Conv2D + BiasAdd + activation) as graph ops
 * (tf.registerOp, which the executor consults before its own ops): an ungrouped convolution runs exactly as
 * TF.js runs it (tf.conv2d / tf.fused.conv2d with the same attributes), a grouped one through
 * grouped-conv.ts (the strategy measured fastest for the backend), then its bias and activation.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../shared/errors';
import { groupedConv2d, prepareTfFilter } from './grouped-conv';

/** What the executor passes a registered op: its input tensors and its attributes (strings lower-cased). */
interface GraphOpNode {
  inputs: tf.Tensor[];
  attrs: Record<string, unknown>;
}

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';
const ACTIVATIONS: readonly Activation[] = ['relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];

interface ConvAttributes {
  strides: [number, number];
  pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding;
  dilations: [number, number];
  dataFormat: 'NHWC' | 'NCHW';
}

function numbers(value: unknown, fallback: number[]): number[] {
  return Array.isArray(value) && value.length > 0 ? value.map(Number) : fallback;
}

/** TensorFlow's Conv2D attributes: strides and dilations `[1, h, w, 1]`, padding SAME / VALID / EXPLICIT (explicit_paddings, 8 numbers). */
function convAttributes(node: GraphOpNode): ConvAttributes {
  const strides = numbers(node.attrs['strides'], [1, 1, 1, 1]);
  const dilations = numbers(node.attrs['dilations'], [1, 1, 1, 1]);
  const padding = String(node.attrs['padding'] ?? 'valid').toLowerCase();
  const dataFormat = String(node.attrs['data_format'] ?? 'nhwc').toUpperCase() === 'NCHW' ? 'NCHW' : 'NHWC';
  let pad: ConvAttributes['pad'];
  if (padding === 'explicit') {
    const p = numbers(node.attrs['explicit_paddings'], [0, 0, 0, 0, 0, 0, 0, 0]);
    pad = [
      [p[0]!, p[1]!],
      [p[2]!, p[3]!],
      [p[4]!, p[5]!],
      [p[6]!, p[7]!],
    ];
  } else pad = padding === 'same' ? 'same' : 'valid';
  return { strides: [strides[1]!, strides[2]!], pad, dilations: [dilations[1]!, dilations[2]!], dataFormat };
}

/** Explicit padding of a 'same' / 'valid' convolution (TensorFlow's rule: the extra row or column at the end). */
function explicitPadding(
  pad: ConvAttributes['pad'],
  [height, width]: [number, number],
  [kh, kw]: [number, number],
  strides: [number, number],
  dilations: [number, number],
): tf.backend_util.ExplicitPadding {
  if (pad !== 'same' && pad !== 'valid') return pad;
  if (pad === 'valid')
    return [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
  const along = (size: number, kernel: number, stride: number, dilation: number): [number, number] => {
    const effective = (kernel - 1) * dilation + 1;
    const total = Math.max(0, (Math.ceil(size / stride) - 1) * stride + effective - size);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [[0, 0], along(height, kh, strides[0], dilations[0]), along(width, kw, strides[1], dilations[1]), [0, 0]];
}

/** A convolution whose filter may be grouped; NHWC. `[N, H, W, C_in]` * `[kh, kw, p, O]` -> `[N, H', W', O]`. */
function convolution(x: tf.Tensor4D, filter: tf.Tensor4D, attributes: ConvAttributes, nodeName: string): tf.Tensor4D | null {
  const perGroup = filter.shape[2];
  const inChannels = x.shape[3];
  if (perGroup === inChannels) return null; // ungrouped: the caller runs TF.js's own kernel
  if (attributes.dataFormat !== 'NHWC' || inChannels % perGroup !== 0) {
    throw new StudioError(
      'unsupported-layer',
      `The graph's convolution "${nodeName}" has a ${perGroup}-channel filter for a ${inChannels}-channel ${attributes.dataFormat} input, which is not a grouped convolution the studio can run.`,
    );
  }
  const groups = inChannels / perGroup;
  const pad = explicitPadding(
    attributes.pad,
    [x.shape[1], x.shape[2]],
    [filter.shape[0], filter.shape[1]],
    attributes.strides,
    attributes.dilations,
  );
  return groupedConv2d(x, prepareTfFilter(filter, groups), attributes.strides, pad, attributes.dilations);
}

function activate(y: tf.Tensor4D, activation: Activation, alpha: number, preluWeights: tf.Tensor | undefined): tf.Tensor4D {
  switch (activation) {
    case 'linear':
      return y;
    case 'relu':
      return tf.relu(y);
    case 'relu6':
      return tf.relu6(y);
    case 'elu':
      return tf.elu(y);
    case 'sigmoid':
      return tf.sigmoid(y);
    case 'leakyrelu':
      return tf.leakyRelu(y, alpha);
    case 'prelu':
      return tf.prelu(y, preluWeights!) as tf.Tensor4D;
  }
}

function conv2dOp(node: GraphOpNode): tf.Tensor {
  const [x, filter] = node.inputs as [tf.Tensor4D, tf.Tensor4D];
  const attributes = convAttributes(node);
  return tf.tidy(
    () =>
      convolution(x, filter, attributes, 'Conv2D') ??
      tf.conv2d(x, filter, attributes.strides, attributes.pad, attributes.dataFormat, attributes.dilations),
  );
}

/** The converter's `_FusedConv2D`: inputs x, filter, then num_args extra inputs (bias, PReLU weights); fused_ops e.g. ['biasadd', 'relu']. */
function fusedConv2dOp(node: GraphOpNode): tf.Tensor {
  const [x, filter, ...args] = node.inputs as [tf.Tensor4D, tf.Tensor4D, ...tf.Tensor[]];
  const attributes = convAttributes(node);
  const fused = (Array.isArray(node.attrs['fused_ops']) ? (node.attrs['fused_ops'] as unknown[]) : []).map((op) =>
    String(op).toLowerCase(),
  );
  const [extra, activationName] = fused;
  if (extra !== undefined && extra !== 'biasadd') {
    throw new StudioError('unsupported-layer', `The graph fuses "${extra}" into a convolution, which TF.js does not support.`);
  }
  const activation: Activation = activationName === undefined ? 'linear' : (ACTIVATIONS.find((a) => a === activationName) ?? 'linear');
  if (activationName !== undefined && activation === 'linear') {
    throw new StudioError(
      'unsupported-layer',
      `The graph fuses the activation "${activationName}" into a convolution, which TF.js does not support.`,
    );
  }
  const bias = extra === 'biasadd' ? args[0] : undefined;
  const preluWeights = activation === 'prelu' ? args[bias === undefined ? 0 : 1] : undefined;
  const alpha = Number(node.attrs['leakyrelu_alpha'] ?? 0.2);
  return tf.tidy(() => {
    const grouped = convolution(x, filter, attributes, '_FusedConv2D');
    if (grouped === null) {
      return tf.fused.conv2d({
        x,
        filter,
        strides: attributes.strides,
        pad: attributes.pad,
        dataFormat: attributes.dataFormat,
        dilations: attributes.dilations,
        ...(bias === undefined ? {} : { bias }),
        activation,
        ...(preluWeights === undefined ? {} : { preluActivationWeights: preluWeights }),
        leakyreluAlpha: alpha,
      });
    }
    return activate(bias === undefined ? grouped : tf.add(grouped, bias), activation, alpha, preluWeights);
  });
}

let registered = false;

/** Registers the graph ops (once per process: graph models loaded afterwards use them). */
export function registerGroupedGraphConvolutions(): void {
  if (registered) return;
  registered = true;
  tf.registerOp('Conv2D', (node) => conv2dOp(node as unknown as GraphOpNode));
  tf.registerOp('_FusedConv2D', (node) => fusedConv2dOp(node as unknown as GraphOpNode));
}
