import type * as tf from '@tensorflow/tfjs';
import type { HeadKind } from '../model/metadata';
import type { ExplainContext } from './context';
import type { MethodId } from './method-ids';

/** What a method needs from the model. */
export type MethodRequirement = 'gap-dense-head' | 'differentiable-head';

/**
 * A CAM method adds only what is its own: the raw maps, one per explained label, before the shared
 * ReLU -> normalise steps of the pipeline.
 */
export interface CamMethod {
  id: MethodId;
  title: string;
  /** Paper and equation. */
  reference: string;
  requires: MethodRequirement;
  /** Raw maps `[N, h, w]` for the context's N labels (synchronous tensor code: runs inside tf.tidy). */
  rawMaps(context: ExplainContext): tf.Tensor3D;
}

export function methodAvailability(method: CamMethod, headKind: HeadKind): { available: boolean; reason?: string } {
  if (method.requires === 'gap-dense-head' && headKind !== 'gap-dense') {
    return {
      available: false,
      reason: `${method.title} needs the head after the target layer to be GlobalAveragePooling -> Dense (its weights are the class weights); this model's is not. Gradient methods still work.`,
    };
  }
  return { available: true };
}
