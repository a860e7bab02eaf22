/**
 * What every method and the engine need from a model, whatever its format: a split at a target layer
 * into `features: x -> A` and `head: A -> S` (pre-activation logits). Implemented for Keras-style
 * LayersModels by ClassifierAdapter (adapter.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { HeadActivation, HeadKind } from '../../shared/model-metadata';

export interface TargetLayerChoice {
  name: string;
  /** Output shape without the batch axis: `[h, w, K]`. */
  shape: number[];
}

export interface ForwardPass {
  /** Target-layer activations `A`: `[B, h, w, K]`. */
  activations: tf.Tensor4D;
  /** Pre-activation logits `S`: `[B, L]`. */
  logits: tf.Tensor2D;
}

/**
 * A layer with a bias, as FullGrad sees it (Srinivas and Fleuret, NeurIPS 2019, Eq. 3): its output
 * `z_l` (before any fused activation) and its effective bias `b_l`.
 */
export interface BiasTap {
  /** The layer's name. */
  layer: string;
  /** Shape of `z_l` for the given input, without the batch axis: `[h, w, C]`. */
  shape: [number, number, number];
  /**
   * The effective bias `b_l`: `[C]`. Conv2D/Dense: the bias; BatchNormalization (inference):
   * `beta - moving_mean * gamma / sqrt(moving_var + eps)`. Owned by the caller (call inside tf.tidy).
   */
  bias: tf.Tensor1D;
}

export interface Classifier {
  /** `[H, W, C]` of the model input. */
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly numParameters: number;
  readonly targetLayer: string;
  /** `[h, w, K]` */
  readonly targetShape: [number, number, number];
  /** Layers (or graph nodes) that can serve as the target. */
  readonly candidates: TargetLayerChoice[];
  readonly headKind: HeadKind;
  readonly headActivation: HeadActivation;
  /** The class weights `W: [K, L]` of a `gap-dense` head (CAM weights), else null. Owned by the model. */
  readonly classWeights: tf.Tensor2D | null;
  /** Logits from target activations: `[B, h, w, K]` -> `[B, L]`. Differentiable. */
  headLogits(activations: tf.Tensor4D): tf.Tensor2D;
  /** Logits from preprocessed inputs: `[B, H, W, C]` -> `[B, L]`. Differentiable w.r.t. the input. */
  logitsOf(input: tf.Tensor4D): tf.Tensor2D;
  /** One forward pass; the caller owns both tensors. */
  forward(input: tf.Tensor4D): ForwardPass;
  /** Probabilities under the head's activation (softmax for a linear head). `[B, L]` */
  probabilities(logits: tf.Tensor2D): tf.Tensor2D;
  /** The same model split at another target layer. Shares (and does not own) the weights. */
  retarget(targetLayer: string): Classifier;
  /** Frees the model's weights. */
  dispose(): void;
  /**
   * FullGrad: the layers with a bias and a 4-D output, from the input up to the logits, in topological
   * order, for an input shaped like `input` (`[B, H, W, C]`; only its shape is read). Throws a
   * `method-unavailable` StudioError when some bias cannot be tapped. Optional: a classifier without it
   * does not support FullGrad.
   */
  biasTapsOf?(input: tf.Tensor4D): BiasTap[];
  /**
   * Logits `[B, L]` with `deltas[l]` (`[B, ...taps[l].shape]`, zeros) added to the output `z_l` of each
   * tap of `biasTapsOf(input)`, in that order, so `dS/d deltas[l] = dS/dz_l`. Differentiable w.r.t. the
   * input and every delta.
   */
  logitsWithBiasTaps?(input: tf.Tensor4D, deltas: readonly tf.Tensor4D[]): tf.Tensor2D;
}
