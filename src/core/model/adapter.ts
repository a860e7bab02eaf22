/**
 * Model surgery for CAM methods: splits a classifier at a target layer into
 * `features: x -> A` and `head: A -> S` (the pre-activation logits).
 *
 * - Target layer: by default the last layer with a 4-D output (`[B, h, w, K]`) that separates the input
 *   from the output (every path from input to output passes through it), i.e. the last activation before
 *   global pooling. Any other separating 4-D layer can be chosen.
 * - Logits: when the last Dense layer fuses `softmax`/`sigmoid`, the logits are recomputed from its kernel
 *   and bias with a linear activation (`S = h W + b`); a separate final `Activation` layer is peeled off the
 *   same way. The head's activation is recorded, so probabilities use the right function.
 * - Head kind: `gap-dense` when the head is exactly `GlobalAveragePooling2D -> (Dropout) -> Dense` (CAM and
 *   MinMax-CAM need it; every gradient is analytic there: dS_c/dA_ij^k = W[k, c] / (h w)), otherwise
 *   `generic` (gradient methods still work, through autodiff of the re-built head).
 *
 * Ownership: the adapter owns the LayersModel it is given; `dispose()` frees its weights. The sub-models
 * share those weights.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../shared/errors';
import type { BiasTap, Classifier, ForwardPass, TargetLayerChoice } from './classifier';
import type { HeadActivation, HeadKind } from '../../shared/model-metadata';

type Layer = tf.layers.Layer;
type SymbolicTensor = tf.SymbolicTensor;

export type { BiasTap, ForwardPass, TargetLayerChoice } from './classifier';

/** How the logits are read off the model. */
type LogitsSource =
  | { kind: 'dense'; dense: Layer } // S = input(dense) @ kernel + bias (activation of the layer ignored)
  | { kind: 'output'; layer: Layer }; // S = output of this layer

const parentsOf = (layer: Layer): Layer[] => layer.inboundNodes[0]?.inboundLayers ?? [];
const className = (layer: Layer): string => layer.getClassName();
const activationOf = (layer: Layer): string | undefined => {
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof activation === 'string' ? activation : undefined;
};
const outputShapeOf = (layer: Layer): (number | null)[] | null => {
  const shape = layer.outputShape;
  if (!Array.isArray(shape) || shape.length === 0) return null;
  if (Array.isArray(shape[0])) return null; // several outputs
  return shape as (number | null)[];
};

/** The parts of a tfjs-layers Conv2D the eager executor reads (protected in the typings). */
interface Conv2DInternals {
  kernel: { read(): tf.Tensor4D };
  bias: { read(): tf.Tensor1D } | null;
  useBias: boolean;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dilationRate: number[];
  dataFormat: string;
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

/**
 * A Conv2D layer applied with the plain (unfused) conv2d op. Under a gradient tape TF.js's fused conv2d
 * computes the filter gradient eagerly even when only the input gradient is wanted (the wasm backend spends
 * most of a backward pass there); the plain op's gradients are lazy, so only dL/dx is computed.
 * `delta` (FullGrad's tap, `[B, h, w, filters]`) is added to the pre-activation output `z` when given.
 */
function applyConv2dUnfused(layer: Layer, input: tf.Tensor4D, delta?: tf.Tensor4D): tf.Tensor4D {
  const conv = layer as unknown as Conv2DInternals;
  let output = tf.conv2d(
    input,
    conv.kernel.read(),
    conv.strides as [number, number],
    conv.padding === 'same' ? 'same' : 'valid',
    'NHWC',
    conv.dilationRate as [number, number],
  );
  if (conv.useBias && conv.bias !== null) output = tf.add(output, conv.bias.read());
  if (delta !== undefined) output = tf.add(output, delta);
  return conv.activation.apply(output) as tf.Tensor4D;
}

/** The parts of a tfjs-layers BatchNormalization FullGrad reads (protected in the typings). */
interface BatchNormInternals {
  gamma: { read(): tf.Tensor1D } | null | undefined;
  beta: { read(): tf.Tensor1D } | null | undefined;
  movingMean: { read(): tf.Tensor1D };
  movingVariance: { read(): tf.Tensor1D };
  epsilon: number;
  axis: number | number[];
}

/** The bias of a layer with `useBias` (Conv2D, DepthwiseConv2D, SeparableConv2D, Dense, ...), else null. */
function plainBiasOf(layer: Layer): tf.Tensor1D | null {
  const biased = layer as unknown as { useBias?: boolean; bias?: { read(): tf.Tensor1D } | null };
  return biased.useBias === true && biased.bias !== null && biased.bias !== undefined ? biased.bias.read() : null;
}

/** Weights named like a bias (`.../bias`, `.../beta`): a layer FullGrad must tap. */
const hasBiasLikeWeight = (layer: Layer): boolean =>
  layer.weights.some((weight) => /(^|\/)(bias|beta)(_\d+)?$/.test(weight.originalName ?? weight.name));

function findLogitsSource(model: tf.LayersModel): { source: LogitsSource; activation: HeadActivation } {
  const output = model.outputLayers[0] as Layer;
  const outputActivation = activationOf(output);
  if (className(output) === 'Activation' && (outputActivation === 'softmax' || outputActivation === 'sigmoid')) {
    const parent = parentsOf(output)[0];
    if (parent === undefined) throw new StudioError('model-build-failed', 'The final Activation layer has no input.');
    const source: LogitsSource =
      className(parent) === 'Dense' && activationOf(parent) === 'linear'
        ? { kind: 'dense', dense: parent }
        : { kind: 'output', layer: parent };
    return { source, activation: outputActivation };
  }
  if (className(output) === 'Dense') {
    const activation: HeadActivation = outputActivation === 'softmax' || outputActivation === 'sigmoid' ? outputActivation : 'linear';
    return { source: { kind: 'dense', dense: output }, activation };
  }
  return { source: { kind: 'output', layer: output }, activation: 'linear' };
}

/** The layer whose output is the head's input to the logits (the Dense's input, or the logits layer). */
function headEndLayer(source: LogitsSource): Layer {
  if (source.kind === 'output') return source.layer;
  const parent = parentsOf(source.dense)[0];
  if (parent === undefined) throw new StudioError('model-build-failed', 'The logits Dense layer has no input.');
  return parent;
}

/**
 * The layers strictly between `target` and `end` (inclusive of `end` unless it is the target), or null when
 * some path from `end` back to the input avoids `target` (then `target` does not separate the graph).
 */
function layersBetween(target: Layer, end: Layer): Set<Layer> | null {
  const between = new Set<Layer>();
  const stack: Layer[] = [end];
  while (stack.length > 0) {
    const layer = stack.pop() as Layer;
    if (layer === target || between.has(layer)) continue;
    const parents = parentsOf(layer);
    if (parents.length === 0) return null; // reached an input without passing the target
    between.add(layer);
    stack.push(...parents);
  }
  return between;
}

/**
 * The layers that `end` depends on (itself included), i.e. the layers that a forward pass to `end` runs.
 */
function ancestorsOf(end: Layer): Set<Layer> {
  const ancestors = new Set<Layer>();
  const stack: Layer[] = [end];
  while (stack.length > 0) {
    const layer = stack.pop() as Layer;
    if (ancestors.has(layer)) continue;
    ancestors.add(layer);
    stack.push(...parentsOf(layer));
  }
  return ancestors;
}

export interface ClassifierAdapterOptions {
  /** A target layer name; the default is the last separating 4-D layer. */
  targetLayer?: string;
}

export class ClassifierAdapter implements Classifier {
  readonly model: tf.LayersModel;
  /** `[H, W, C]` of the model input (224 where the model leaves a spatial size open). */
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly targetLayer: string;
  /** `[h, w, K]` */
  readonly targetShape: [number, number, number];
  readonly candidates: TargetLayerChoice[];
  readonly headKind: HeadKind;
  readonly headActivation: HeadActivation;

  private readonly featureModel: tf.LayersModel;
  private readonly headModel: tf.LayersModel | null;
  private readonly logitsSource: LogitsSource;
  /** Dense kernel `W`: `[K', L]` and bias `[L]`, when the logits come from a Dense layer. */
  private readonly denseKernel: tf.Tensor2D | null;
  private readonly denseBias: tf.Tensor1D | null;

  constructor(model: tf.LayersModel, options: ClassifierAdapterOptions = {}) {
    if (model.inputs.length !== 1) {
      throw new StudioError(
        'multiple-inputs',
        `The model has ${model.inputs.length} inputs; the studio explains single-image classifiers (one input).`,
      );
    }
    if (model.outputs.length !== 1) {
      throw new StudioError(
        'multiple-outputs',
        `The model has ${model.outputs.length} outputs; the studio needs a single class-score output.`,
      );
    }
    const inputShape = (model.inputs[0] as SymbolicTensor).shape;
    const channels = inputShape[3];
    if (inputShape.length !== 4 || (channels !== 1 && channels !== 3)) {
      throw new StudioError(
        'bad-input-rank',
        `The model's input has shape [${inputShape.map((d) => d ?? 'null').join(', ')}]; the studio needs an image input [batch, height, width, 1 or 3].`,
      );
    }
    this.model = model;
    this.inputShape = [inputShape[1] ?? 224, inputShape[2] ?? 224, channels];
    const outputShape = (model.outputs[0] as SymbolicTensor).shape;
    if (outputShape.length !== 2 || outputShape[1] === null) {
      throw new StudioError(
        'bad-input-rank',
        `The model's output has shape [${outputShape.map((d) => d ?? 'null').join(', ')}]; the studio needs class scores [batch, classes].`,
      );
    }
    this.numClasses = outputShape[1] as number;

    const { source, activation } = findLogitsSource(model);
    this.logitsSource = source;
    this.headActivation = activation;
    const end = headEndLayer(source);

    this.candidates = [];
    for (const layer of model.layers) {
      const shape = outputShapeOf(layer);
      if (className(layer) === 'InputLayer' || shape === null || shape.length !== 4) continue;
      if (layersBetween(layer, end) === null) continue;
      this.candidates.push({ name: layer.name, shape: shape.slice(1).map((d) => d ?? -1) });
    }
    if (this.candidates.length === 0) {
      throw new StudioError(
        'no-conv-layer',
        'The model has no 4-D (convolutional) layer that feeds its output: class activation maps need spatial feature maps.',
      );
    }
    const requested = options.targetLayer;
    const choice =
      requested === undefined
        ? this.candidates[this.candidates.length - 1]
        : this.candidates.find((candidate) => candidate.name === requested);
    if (choice === undefined) {
      throw new StudioError(
        'unknown-layer',
        `"${requested}" is not a usable target layer. Choose a layer with a 4-D output that every path to the output passes through (e.g. ${this.candidates[this.candidates.length - 1]?.name}).`,
      );
    }
    this.targetLayer = choice.name;
    const target = model.getLayer(choice.name);
    const [h, w, k] = choice.shape;
    this.targetShape = [h ?? -1, w ?? -1, k ?? -1];

    const between = layersBetween(target, end) as Set<Layer>;
    const betweenKinds = model.layers.filter((layer) => between.has(layer)).map(className);
    const isGapDense =
      source.kind === 'dense' &&
      betweenKinds.length >= 1 &&
      betweenKinds[0] === 'GlobalAveragePooling2D' &&
      betweenKinds.slice(1).every((kind) => kind === 'Dropout');
    this.headKind = isGapDense ? 'gap-dense' : 'generic';

    if (source.kind === 'dense') {
      const [kernel, bias] = source.dense.getWeights() as [tf.Tensor2D, tf.Tensor1D | undefined];
      this.denseKernel = kernel;
      this.denseBias = bias ?? null;
    } else {
      this.denseKernel = null;
      this.denseBias = null;
    }
    this.featureModel = tf.model({ inputs: model.inputs, outputs: target.output as SymbolicTensor });
    this.headModel = isGapDense ? null : this.buildHeadModel(target, end, between);
  }

  /** Re-applies the layers between the target and the head end to a fresh input of the target's shape. */
  private buildHeadModel(target: Layer, end: Layer, between: Set<Layer>): tf.LayersModel {
    const headInput = tf.input({ shape: this.targetShape, name: `${target.name}_head_input` });
    const outputs = new Map<Layer, SymbolicTensor>([[target, headInput]]);
    for (const layer of this.model.layers) {
      if (!between.has(layer)) continue;
      const inputs = parentsOf(layer).map((parent) => outputs.get(parent) as SymbolicTensor);
      const applied = layer.apply(inputs.length === 1 ? (inputs[0] as SymbolicTensor) : inputs) as SymbolicTensor;
      outputs.set(layer, applied);
    }
    return tf.model({ inputs: headInput, outputs: outputs.get(end) as SymbolicTensor });
  }

  /** The Dense kernel `W`: `[K, L]` of a `gap-dense` head (CAM weights), else null. Owned by the model. */
  get classWeights(): tf.Tensor2D | null {
    return this.headKind === 'gap-dense' ? this.denseKernel : null;
  }

  get numParameters(): number {
    return this.model.countParams();
  }

  /**
   * The same LayersModel split at another layer. The returned adapter shares the weights; dispose only
   * one of them (the engine keeps the newest and drops the old one without disposing it).
   */
  retarget(targetLayer: string): ClassifierAdapter {
    return new ClassifierAdapter(this.model, { targetLayer });
  }

  /**
   * Logits from target activations.
   * @param activations `[B, h, w, K]`
   * @returns `[B, L]`
   */
  headLogits(activations: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let features: tf.Tensor;
      if (this.headModel === null) {
        features = tf.mean(activations, [1, 2]); // GAP: [B, K]
      } else {
        features = this.headModel.apply(activations, { training: false }) as tf.Tensor;
      }
      if (this.logitsSource.kind === 'output') return features as tf.Tensor2D;
      const flat = features.rank === 2 ? (features as tf.Tensor2D) : (tf.reshape(features, [features.shape[0] ?? -1, -1]) as tf.Tensor2D);
      const logits = tf.matMul(flat, this.denseKernel as tf.Tensor2D); // [B, L]
      return (this.denseBias === null ? logits : tf.add(logits, this.denseBias)) as tf.Tensor2D;
    });
  }

  /**
   * Logits straight from preprocessed inputs (masked forward passes, input gradients). `[B, H, W, C]` ->
   * `[B, L]`. Differentiable w.r.t. the input: the backbone runs layer by layer with unfused convolutions,
   * so a backward pass computes no weight gradients (see applyConv2dUnfused).
   */
  logitsOf(input: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.headLogits(this.featuresEager(input)));
  }

  /** Target activations computed layer by layer (same values as the feature model). `[B, h, w, K]` */
  private featuresEager(input: tf.Tensor4D): tf.Tensor4D {
    const outputs = new Map<Layer, tf.Tensor>();
    const target = this.model.getLayer(this.targetLayer);
    for (const layer of this.model.layers) {
      if (className(layer) === 'InputLayer') {
        outputs.set(layer, input);
        continue;
      }
      const inputs = parentsOf(layer).map((parent) => outputs.get(parent));
      if (inputs.some((tensor) => tensor === undefined)) continue; // not upstream of the target
      const output =
        className(layer) === 'Conv2D' && inputs.length === 1
          ? applyConv2dUnfused(layer, inputs[0] as tf.Tensor4D)
          : (layer.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : (inputs as tf.Tensor[]), { training: false }) as tf.Tensor);
      outputs.set(layer, output);
      if (layer === target) return output as tf.Tensor4D;
    }
    throw new Error(`target layer ${this.targetLayer} was not reached`);
  }

  /**
   * FullGrad's bias taps (Srinivas and Fleuret, NeurIPS 2019, Eq. 3: `f(x) = grad_x f . x + sum_l
   * grad_{z_l} f . b_l` for piecewise-linear networks): every layer from the input up to the logits with
   * a bias and a 4-D output `z_l: [B, h, w, C]`, in topological order, with its effective bias `[C]`:
   * - Conv2D (and any layer with `useBias`: DepthwiseConv2D, SeparableConv2D, Dense on 4-D inputs): the bias;
   *   `z_l` is the output before the fused activation (Conv2D only; other layers need a linear activation);
   * - BatchNormalization (inference, channel axis last): `beta - moving_mean * gamma / sqrt(moving_var + eps)`.
   * Layers with a 2-D output (the head's Dense layers, the logits' own bias) are not taps: their bias-gradient
   * map is spatially constant (0 after min-max normalisation).
   * Throws a `method-unavailable` StudioError for a layer with a bias it cannot tap (a non-linear activation
   * fused into a non-Conv2D layer, channels-first data, a bias-like weight of an unknown layer type such as a
   * nested model or LayerNormalization).
   * @param input `[B, H, W, C]`: only its shape is read (shapes are propagated with computeOutputShape).
   * @returns the taps; the bias tensors are owned by the caller (call inside tf.tidy).
   */
  biasTapsOf(input: tf.Tensor4D): BiasTap[] {
    const unavailable = (layer: Layer, why: string) =>
      new StudioError(
        'method-unavailable',
        `FullGrad cannot tap the bias of layer "${layer.name}" (${className(layer)}): ${why}. The other methods still work.`,
      );
    const end = headEndLayer(this.logitsSource);
    const ancestors = ancestorsOf(end);
    const shapes = new Map<Layer, number[]>();
    const taps: BiasTap[] = [];
    for (const layer of this.model.layers) {
      if (!ancestors.has(layer)) continue;
      if (className(layer) === 'InputLayer') {
        shapes.set(layer, input.shape.slice());
        continue;
      }
      const inputShapes = parentsOf(layer).map((parent) => shapes.get(parent) as number[]);
      const shape = layer.computeOutputShape(inputShapes.length === 1 ? (inputShapes[0] as number[]) : inputShapes) as number[];
      shapes.set(layer, shape);
      if (shape.length !== 4 || shape.some((d) => typeof d !== 'number')) continue;
      const [, h, w, channels] = shape as [number, number, number, number];
      const kind = className(layer);
      let bias: tf.Tensor1D | null;
      if (kind === 'BatchNormalization') {
        const bn = layer as unknown as BatchNormInternals;
        const axis = Array.isArray(bn.axis) ? bn.axis : [bn.axis];
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 3))
          throw unavailable(layer, 'it normalises an axis other than the last (channels) one');
        bias = tf.tidy(() => {
          const scale = bn.gamma === null || bn.gamma === undefined ? tf.scalar(1) : bn.gamma.read();
          const shift = tf.div(tf.mul(bn.movingMean.read(), scale), tf.sqrt(tf.add(bn.movingVariance.read(), bn.epsilon)));
          return (bn.beta === null || bn.beta === undefined ? tf.neg(shift) : tf.sub(bn.beta.read(), shift)) as tf.Tensor1D;
        });
      } else {
        const plain = plainBiasOf(layer);
        if (plain === null) {
          if (hasBiasLikeWeight(layer)) throw unavailable(layer, "the studio does not know how to read this layer type's bias");
          continue;
        }
        const dataFormat = (layer as unknown as { dataFormat?: string }).dataFormat;
        if (dataFormat !== undefined && dataFormat !== 'channelsLast') throw unavailable(layer, 'it is channels-first');
        const activation = activationOf(layer);
        if (kind !== 'Conv2D' && activation !== undefined && activation !== 'linear') {
          throw unavailable(layer, `its output is taken after the fused "${activation}" activation`);
        }
        bias = tf.clone(plain);
      }
      if (bias.size !== channels) {
        bias.dispose();
        throw unavailable(layer, `its bias has ${bias.size} entries for ${channels} channels`);
      }
      taps.push({ layer: layer.name, shape: [h, w, channels], bias });
    }
    return taps;
  }

  /**
   * Logits with FullGrad's taps: the whole model (backbone and head) runs layer by layer as in
   * featuresEager (unfused Conv2D, so a backward pass computes no weight gradients), and `deltas[l]`
   * (zeros, `[B, h, w, C]`) is added to the pre-activation output `z_l` of tap l of `biasTapsOf(input)`;
   * then `dS/d deltas[l] = dS/dz_l`. Logits are read off as headLogits does.
   * @param input `[B, H, W, C]`, preprocessed
   * @param deltas one per tap, in the order of `biasTapsOf(input)`
   * @returns `[B, L]`, differentiable w.r.t. the input and every delta
   */
  logitsWithBiasTaps(input: tf.Tensor4D, deltas: readonly tf.Tensor4D[]): tf.Tensor2D {
    return tf.tidy(() => {
      const taps = tf.tidy(() => this.biasTapsOf(input).map(({ layer, shape }) => ({ layer, shape })));
      if (taps.length !== deltas.length) throw new Error(`logitsWithBiasTaps: ${deltas.length} deltas for ${taps.length} taps`);
      const deltaOf = new Map<string, tf.Tensor4D>();
      taps.forEach((tap, l) => {
        const delta = deltas[l] as tf.Tensor4D;
        const expected = [input.shape[0], ...tap.shape];
        if (!delta.shape.every((d, i) => d === expected[i])) {
          throw new Error(
            `logitsWithBiasTaps: delta ${l} (${tap.layer}) has shape [${delta.shape.join(', ')}], expected [${expected.join(', ')}]`,
          );
        }
        deltaOf.set(tap.layer, delta);
      });
      const end = headEndLayer(this.logitsSource);
      const ancestors = ancestorsOf(end);
      const outputs = new Map<Layer, tf.Tensor>();
      for (const layer of this.model.layers) {
        if (!ancestors.has(layer)) continue;
        if (className(layer) === 'InputLayer') {
          outputs.set(layer, input);
          continue;
        }
        const inputs = parentsOf(layer).map((parent) => outputs.get(parent) as tf.Tensor);
        const delta = deltaOf.get(layer.name);
        let output: tf.Tensor;
        if (className(layer) === 'Conv2D' && inputs.length === 1) {
          output = applyConv2dUnfused(layer, inputs[0] as tf.Tensor4D, delta);
        } else {
          output = layer.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs, { training: false }) as tf.Tensor;
          if (delta !== undefined) output = tf.add(output, delta); // BatchNormalization, or a linear biased layer
        }
        outputs.set(layer, output);
      }
      const features = outputs.get(end) as tf.Tensor;
      if (this.logitsSource.kind === 'output') return features as tf.Tensor2D;
      const flat = features.rank === 2 ? (features as tf.Tensor2D) : (tf.reshape(features, [features.shape[0] ?? -1, -1]) as tf.Tensor2D);
      const logits = tf.matMul(flat, this.denseKernel as tf.Tensor2D); // [B, L]
      return (this.denseBias === null ? logits : tf.add(logits, this.denseBias)) as tf.Tensor2D;
    });
  }

  /**
   * One forward pass: activations at the target layer and logits.
   * @param input `[B, H, W, C]`, preprocessed
   * The caller owns (and disposes) both tensors.
   */
  forward(input: tf.Tensor4D): ForwardPass {
    return tf.tidy(() => {
      const activations = this.featureModel.predict(input) as tf.Tensor4D;
      const logits = this.headLogits(activations);
      return { activations, logits };
    });
  }

  /** Probabilities from logits under the head's activation (softmax for a linear head). `[B, L]` */
  probabilities(logits: tf.Tensor2D): tf.Tensor2D {
    return this.headActivation === 'sigmoid' ? tf.sigmoid(logits) : tf.softmax(logits);
  }

  /**
   * Frees the model's weights. The re-built head holds references to the head's layers (TF.js counts
   * them), so it is released first; the model then frees every weight.
   */
  dispose(): void {
    this.headModel?.dispose();
    this.model.dispose();
  }
}
