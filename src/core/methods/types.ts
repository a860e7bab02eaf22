import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../model/classifier';
import type { ExplainContext } from './context';
import type { MethodId } from './method-ids';

/**
 * What a method needs from the model: the class weights of a GAP -> Dense head, any differentiable head,
 * or bias taps through the whole model (FullGrad; LayersModels only).
 */
export type MethodRequirement = 'gap-dense-head' | 'differentiable-head' | 'bias-taps';

/** `feature`: maps at the target layer's `[h, w]`; `input`: at the model input's `[H, W]`. */
export type MapResolution = 'feature' | 'input';

export type MethodFamily = 'weights' | 'gradient' | 'perturbation' | 'input-saliency';

/** Cooperative cancellation and progress for long methods (between batches). */
export interface MethodControl {
  /** Throws a `cancelled` StudioError when the job was cancelled. */
  checkpoint(): void;
  /** `done` of `total` steps of this method. */
  progress(done: number, total: number): void;
}

export const NO_CONTROL: MethodControl = { checkpoint: () => undefined, progress: () => undefined };

/** Extra numbers a method reports beside its maps (e.g. Integrated Gradients' completeness gap per label). */
export type MethodExtras = Record<string, number[]>;

export interface MethodOutput {
  /** Raw maps `[N, h, w]` (or `[N, H, W]`) for the context's N labels, before the pipeline's ReLU. */
  maps: tf.Tensor3D;
  extras?: MethodExtras;
  /** Sentences for the user about how the maps were made (e.g. a batch shrunk to fit memory). */
  notes?: string[];
}

/**
 * A method adds only what is its own: the raw maps of every explained label, before the shared
 * ReLU -> normalise steps of the pipeline. Synchronous methods return a tensor made inside tf.tidy;
 * long methods are async, report progress and call `control.checkpoint()` between batches.
 */
export interface CamMethod {
  id: MethodId;
  title: string;
  family: MethodFamily;
  /** Paper and equation. */
  reference: string;
  requires: MethodRequirement;
  resolution: MapResolution;
  /** True for methods that run many forward passes (progress and cancel matter). */
  long: boolean;
  compute(context: ExplainContext, control: MethodControl): MethodOutput | Promise<MethodOutput>;
}

export function methodAvailability(method: CamMethod, classifier: Pick<Classifier, 'headKind' | 'biasTapsOf'>): { available: boolean; reason?: string } {
  if (method.requires === 'gap-dense-head' && classifier.headKind !== 'gap-dense') {
    return {
      available: false,
      reason: `${method.title} needs the head after the target layer to be GlobalAveragePooling -> Dense (its weights are the class weights); this model's is not. Gradient methods still work.`,
    };
  }
  if (method.requires === 'bias-taps' && classifier.biasTapsOf === undefined) {
    return {
      available: false,
      reason: `${method.title} needs the bias of every layer, which the studio reads from Keras-style (layers) models only; this model is a graph model.`,
    };
  }
  return { available: true };
}
