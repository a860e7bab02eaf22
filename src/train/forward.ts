/**
 * The training-mode forward pass of a shapes network, written with plain ops over the model's own
 * variables (layer by layer, in the model's topological order), for speed on the wasm backend:
 *
 * - Conv2D runs as the plain `tf.conv2d` op, not the layers' fused one: the fused op's gradient computes
 *   the filter *and* input gradients eagerly, including the input gradient of the stem convolution, which
 *   nothing needs (the image is not trained) and which wasm's native Conv2DBackpropInput makes the most
 *   expensive kernel of a step; the plain op's gradients are computed only where needed.
 * - BatchNormalization (training mode: batch statistics, Ioffe and Szegedy 2015) is written with
 *   broadcasting ops, whose gradients are broadcast sums; the `batchNorm` op's gradient tiles its
 *   per-channel factors to the full activation shape (wasm's Tile is slow). The moving mean and variance are
 *   updated as tfjs-layers does: `moving <- moving - (moving - batch) * (1 - momentum)`, with the biased
 *   batch variance.
 *
 * Same function as `model.apply(x, { training: true })` (checked in shapes-model.test.ts); inference and the
 * saved model use the ordinary layers.
 */
import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;

interface ConvInternals {
  kernel: { read(): tf.Tensor4D };
  bias: { read(): tf.Tensor1D } | null;
  useBias: boolean;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dilationRate: number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

interface BatchNormInternals {
  gamma: { read(): tf.Tensor1D } | null | undefined;
  beta: { read(): tf.Tensor1D } | null | undefined;
  movingMean: { read(): tf.Tensor1D; write(value: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor1D; write(value: tf.Tensor): void };
  epsilon: number;
  momentum: number;
  axis: number | number[];
}

const parentsOf = (layer: Layer): Layer[] => layer.inboundNodes[0]?.inboundLayers ?? [];

function batchNormTraining(layer: Layer, x: tf.Tensor, updateStatistics: boolean): tf.Tensor {
  const bn = layer as unknown as BatchNormInternals;
  const axis = Array.isArray(bn.axis) ? bn.axis : [bn.axis];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== x.rank - 1))
    throw new Error(`${layer.name}: only channels-last batch normalisation is supported`);
  const { mean, variance } = tf.moments(
    x,
    Array.from({ length: x.rank - 1 }, (_, i) => i),
  );
  if (updateStatistics) {
    const decay = 1 - bn.momentum;
    for (const [variable, value] of [
      [bn.movingMean, mean],
      [bn.movingVariance, variance],
    ] as const) {
      const updated = tf.tidy(() => {
        const current = variable.read();
        return tf.sub(current, tf.mul(tf.sub(current, value), decay));
      });
      variable.write(updated);
      updated.dispose();
    }
  }
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, bn.epsilon)));
  if (bn.gamma !== null && bn.gamma !== undefined) y = tf.mul(y, bn.gamma.read());
  if (bn.beta !== null && bn.beta !== undefined) y = tf.add(y, bn.beta.read());
  return y;
}

/** Layers that compute the same function in training and in inference: run as they are. */
const STATELESS_LAYERS = new Set([
  'Activation',
  'Dense',
  'ZeroPadding2D',
  'AveragePooling2D',
  'GroupedConv2D',
  'RadixSum',
  'RadixSoftmax',
  'RadixWeightedSum',
]);

/**
 * Runs `model` from its input to the layer `until` in training mode (batch statistics; the moving averages
 * are updated when `updateStatistics`). Supports the layer types of shapes-model.ts: InputLayer, Conv2D,
 * BatchNormalization (channels-last, any rank), Add, GlobalAveragePooling2D and STATELESS_LAYERS. Call inside a tidy / gradient scope.
 */
export function trainingForward(model: tf.LayersModel, x: tf.Tensor4D, until: string, updateStatistics = true): tf.Tensor {
  const outputs = new Map<Layer, tf.Tensor>();
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer') {
      outputs.set(layer, x);
      continue;
    }
    const inputs = parentsOf(layer).map((parent) => outputs.get(parent));
    if (inputs.some((input) => input === undefined)) throw new Error(`trainingForward: ${layer.name} runs before its inputs`);
    const input = inputs[0] as tf.Tensor;
    let output: tf.Tensor;
    switch (kind) {
      case 'Conv2D': {
        const conv = layer as unknown as ConvInternals;
        output = tf.conv2d(
          input as tf.Tensor4D,
          conv.kernel.read(),
          conv.strides as [number, number],
          conv.padding === 'same' ? 'same' : 'valid',
          'NHWC',
          conv.dilationRate as [number, number],
        );
        if (conv.useBias && conv.bias !== null) output = tf.add(output, conv.bias.read());
        output = conv.activation.apply(output);
        break;
      }
      case 'BatchNormalization':
        output = batchNormTraining(layer, input, updateStatistics);
        break;
      case 'Add':
        output = tf.addN(inputs as tf.Tensor[]);
        break;
      case 'GlobalAveragePooling2D':
        output = tf.mean(input, [1, 2]);
        break;
      default:
        if (!STATELESS_LAYERS.has(kind)) throw new Error(`trainingForward: layer type ${kind} (${layer.name}) is not supported`);
        output = layer.apply(inputs.length === 1 ? input : (inputs as tf.Tensor[])) as tf.Tensor;
    }
    outputs.set(layer, output);
    if (layer.name === until) return output;
  }
  throw new Error(`trainingForward: layer ${until} not found`);
}
