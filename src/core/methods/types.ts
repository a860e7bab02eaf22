import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../model/classifier';
import type { ExplainContext } from './context';
import { methodDescriptor, type MethodDescriptor, type MethodId } from '../../shared/methods';

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
 * A method: its descriptor (src/shared/methods.ts: title, family, reference, requirement, resolution, long)
 * plus what is its own, the raw maps of every explained label, before the shared ReLU -> normalise steps of
 * the pipeline. Synchronous methods return a tensor made inside tf.tidy; long methods are async, report
 * progress and call `control.checkpoint()` between batches.
 */
export interface CamMethod extends MethodDescriptor {
  id: MethodId;
  compute(context: ExplainContext, control: MethodControl): MethodOutput | Promise<MethodOutput>;
}

/** A method from its descriptor and its computation. */
export function defineMethod(id: MethodId, compute: CamMethod['compute']): CamMethod {
  return { ...methodDescriptor(id), compute };
}

export function methodAvailability(
  method: Pick<MethodDescriptor, 'requires' | 'title'>,
  classifier: Pick<Classifier, 'headKind' | 'biasTapsOf'>,
): { available: boolean; reason?: string } {
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
