/** Small synthetic models for unit tests (deterministic weights). */
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, type ForwardPass } from '../core/model/adapter';
import { layersModelFiles } from '../node/files';

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

export type TinyHead =
  | 'binary-sigmoid'
  | 'binary-softmax'
  | 'gap-dense-softmax'
  | 'gap-dense-sigmoid'
  | 'gap-dense-linear-then-softmax'
  | 'gap-dense-dense'
  | 'flatten-dense';

/**
 * input [16, 16, 3] -> conv(4) -> conv(6) -> 'target' relu ([8, 8, 6] after a stride-2 conv) -> head -> 5 classes.
 */
export function tinyClassifier(head: TinyHead = 'gap-dense-softmax', seed = 1, firstActivation: 'relu' | 'tanh' = 'relu'): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3], name: 'image' });
  let x = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: firstActivation,
      kernelInitializer: seeded(seed),
      biasInitializer: tf.initializers.constant({ value: 0.2 }),
      name: 'conv_a',
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      kernelInitializer: seeded(seed + 1),
      biasInitializer: 'ones',
      name: 'conv_b',
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'target' }).apply(x) as tf.SymbolicTensor;
  let output: tf.SymbolicTensor;
  const dense = (units: number, activation: 'softmax' | 'sigmoid' | 'linear' | 'relu', name: string, s: number) =>
    tf.layers.dense({ units, activation, kernelInitializer: seeded(s), biasInitializer: tf.initializers.constant({ value: 0.1 }), name });
  switch (head) {
    case 'binary-sigmoid':
    case 'binary-softmax': {
      // A binary classifier with one output (Keras Dense(1, sigmoid), or a one-unit softmax).
      const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
      output = dense(1, head === 'binary-softmax' ? 'softmax' : 'sigmoid', 'predictions', seed + 2).apply(pooled) as tf.SymbolicTensor;
      break;
    }
    case 'gap-dense-softmax':
    case 'gap-dense-sigmoid': {
      const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
      output = dense(5, head === 'gap-dense-softmax' ? 'softmax' : 'sigmoid', 'predictions', seed + 2).apply(pooled) as tf.SymbolicTensor;
      break;
    }
    case 'gap-dense-linear-then-softmax': {
      const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
      const dropped = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(pooled) as tf.SymbolicTensor;
      const logits = dense(5, 'linear', 'logits', seed + 2).apply(dropped) as tf.SymbolicTensor;
      output = tf.layers.activation({ activation: 'softmax', name: 'probs' }).apply(logits) as tf.SymbolicTensor;
      break;
    }
    case 'gap-dense-dense': {
      const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
      const hidden = dense(7, 'relu', 'hidden', seed + 3).apply(pooled) as tf.SymbolicTensor;
      output = dense(5, 'softmax', 'predictions', seed + 2).apply(hidden) as tf.SymbolicTensor;
      break;
    }
    case 'flatten-dense': {
      const flat = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
      output = dense(5, 'sigmoid', 'predictions', seed + 2).apply(flat) as tf.SymbolicTensor;
      break;
    }
  }
  return tf.model({ inputs: input, outputs: output, name: `tiny_${head}` });
}

/** A deterministic pseudo-random image batch `[1, 16, 16, 3]` in [0, 1). */
export function tinyInput(seed = 7): tf.Tensor4D {
  return tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Saves a model to in-memory TF.js files: model.json text and one weights.bin. */
export function toModelFiles(model: tf.LayersModel): Promise<{ modelJson: string; weights: ArrayBuffer }> {
  return layersModelFiles(model, 'cam-studio tests');
}

/**
 * A model whose weights are chosen by hand, for maps computed by hand: input `[2, 2, 3]` -> 1x1 conv 'target'
 * keeping the first two channels (so A = x[..., :2]) -> GAP -> Dense(3, sigmoid) with kernel `W = [[2, 1, 0], [-2, 1, 3]]` and bias
 * `[1, 0, -5]`. With the input `A^0 = [[1, 0], [0, 0]]`, `A^1 = [[0, 0], [0, 1]]`: mean A = [0.25, 0.25],
 * logits = [1, 0.5, -4.25], so labels 0 and 1 are detected (p > 0.5) and 2 is not.
 */
export function handWeightedModel(): tf.LayersModel {
  const input = tf.input({ shape: [2, 2, 3], name: 'image' });
  const target = tf.layers
    .conv2d({
      filters: 2,
      kernelSize: 1,
      useBias: false,
      name: 'target',
      weights: [tf.tensor4d([1, 0, 0, 1, 0, 0], [1, 1, 3, 2])],
    })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(target) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({
      units: 3,
      activation: 'sigmoid',
      name: 'predictions',
      weights: [
        tf.tensor2d([
          [2, 1, 0],
          [-2, 1, 3],
        ]),
        tf.tensor1d([1, 0, -5]),
      ],
    })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** The input of {@link handWeightedModel}: channel 0 lights the top-left, channel 1 the bottom-right. */
export function handWeightedInput(): tf.Tensor4D {
  return tf.tensor4d([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], [1, 2, 2, 3]);
}

/**
 * FullGrad test models, input `[16, 16, 3]` -> 5 classes (softmax), piecewise linear (ReLU, zero padding, GAP):
 * - `batchnorm`: conv_1 (biased, fused ReLU) -> conv_2 (biased) -> bn_2 (non-trivial gamma, beta, moving
 *   statistics) -> relu 'target' ([8, 8, 6] after a stride-2 conv_2) -> GAP -> Dense(5, softmax, biased);
 * - `no-bias`: the same convolutions and Dense with `useBias: false` and no BatchNormalization.
 */
export function tinyBiasClassifier(kind: 'batchnorm' | 'no-bias', seed = 3): tf.LayersModel {
  const biased = kind === 'batchnorm';
  const input = tf.input({ shape: [16, 16, 3], name: 'image' });
  let x = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      useBias: biased,
      kernelInitializer: seeded(seed),
      biasInitializer: tf.initializers.constant({ value: 0.1 }),
      name: 'conv_1',
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: biased,
      kernelInitializer: seeded(seed + 1),
      biasInitializer: tf.initializers.constant({ value: -0.2 }),
      name: 'conv_2',
    })
    .apply(x) as tf.SymbolicTensor;
  if (biased) {
    const ramp = (start: number, step: number) => tf.tensor1d([0, 1, 2, 3, 4, 5].map((i) => start + step * i));
    x = tf.layers
      .batchNormalization({
        name: 'bn_2',
        epsilon: 1e-3,
        weights: [ramp(0.8, 0.1), ramp(-0.3, 0.12), ramp(-0.2, 0.09), ramp(0.5, 0.3)], // gamma, beta, moving mean, moving variance
      })
      .apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.activation({ activation: 'relu', name: 'target' }).apply(x) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({
      units: 5,
      activation: 'softmax',
      useBias: biased,
      kernelInitializer: seeded(seed + 2),
      biasInitializer: tf.initializers.constant({ value: 0.1 }),
      name: 'predictions',
    })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: `tiny_fullgrad_${kind}` });
}

/** The sigmoid tiny classifier as an adapter, with an input and its forward pass; `release()` disposes all. */
export interface TinyFixture {
  adapter: ClassifierAdapter;
  input: tf.Tensor4D;
  forward: ForwardPass;
  release(): void;
}

export function tinySigmoidFixture(): TinyFixture {
  const adapter = new ClassifierAdapter(tinyClassifier('gap-dense-sigmoid'));
  const input = tinyInput();
  const forward = adapter.forward(input);
  return {
    adapter,
    input,
    forward,
    release: () => {
      tf.dispose([input, forward.activations, forward.logits]);
      adapter.dispose();
    },
  };
}
