/**
 * The shared pipeline: activations -> per-label raw maps (the method's own step) -> ReLU -> normalise.
 * One forward pass and at most one gradient computation serve every label and every method.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import { normalizeMaps } from '../maps/filters';
import type { ClassifierAdapter, ForwardPass } from '../model/adapter';
import { ExplainContext, type GradientPath } from './context';
import type { MethodId } from './method-ids';
import { getMethod } from './registry';
import { methodAvailability } from './types';

export interface MethodMaps {
  method: MethodId;
  /** ReLU-ed maps before normalisation: `[N, h, w]` (N = labels). */
  raw: tf.Tensor3D;
  /** ReLU-ed then min-max normalised maps: `[N, h, w]`. */
  normalized: tf.Tensor3D;
  /** Wall time of this method (excluding the shared forward pass), ms. */
  ms: number;
}

export interface ExplainOptions {
  gradientPath?: GradientPath;
  /** Called between methods; throwing (e.g. a `cancelled` StudioError) stops the run, with nothing leaked. */
  checkpoint?: () => void;
}

export function validateLabels(adapter: ClassifierAdapter, labels: readonly number[]): void {
  for (const label of labels) {
    if (!Number.isInteger(label) || label < 0 || label >= adapter.numClasses) {
      throw new StudioError('label-out-of-range', `Label ${label} does not exist: this model has classes 0 to ${adapter.numClasses - 1}.`);
    }
  }
}

/**
 * Runs the chosen methods for the chosen labels on one forward pass.
 * @param forward the forward pass of a single image (`activations [1, h, w, K]`, `logits [1, L]`); the
 *   caller keeps ownership.
 * @returns one entry per method; the caller owns (and disposes) their tensors.
 */
export function explainMethods(
  adapter: ClassifierAdapter,
  forward: ForwardPass,
  labels: readonly number[],
  methods: readonly MethodId[],
  options: ExplainOptions = {},
): MethodMaps[] {
  validateLabels(adapter, labels);
  const context = new ExplainContext(adapter, forward, labels, options.gradientPath);
  const results: MethodMaps[] = [];
  try {
    for (const id of methods) {
      options.checkpoint?.();
      const method = getMethod(id);
      const availability = methodAvailability(method, adapter.headKind);
      if (!availability.available) throw new StudioError('method-unavailable', availability.reason ?? `${method.title} is not available for this model.`);
      const started = performance.now();
      const [raw, normalized] = tf.tidy(() => {
        const rectified = tf.relu(method.rawMaps(context)) as tf.Tensor3D;
        return [rectified, normalizeMaps(rectified)] as const;
      });
      results.push({ method: id, raw, normalized, ms: performance.now() - started });
    }
    return results;
  } catch (error) {
    for (const result of results) disposeMethodMaps(result);
    throw error;
  } finally {
    context.dispose();
  }
}

export function disposeMethodMaps(maps: MethodMaps): void {
  maps.raw.dispose();
  maps.normalized.dispose();
}
