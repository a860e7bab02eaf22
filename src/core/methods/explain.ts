/**
 * The shared pipeline: activations -> per-label raw maps (each method's own step) -> ReLU -> normalise,
 * raw maps kept. One forward pass and one gradient computation serve every label and every method.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../shared/errors';
import { yieldToEventLoop } from '../batching';
import { normalizeMaps } from '../maps/filters';
import type { Classifier, ForwardPass } from '../model/classifier';
import { ExplainContext, type GradientPath } from './context';
import type { MethodOptions } from '../../shared/options';
import type { MethodId } from '../../shared/methods';
import { getMethod } from './registry';
import type { MapResolution } from '../../shared/methods';
import { methodAvailability, type MethodExtras } from './types';

export interface MethodMaps {
  method: MethodId;
  resolution: MapResolution;
  /** ReLU-ed maps before normalisation: `[N, h, w]` (N = labels; `[N, H, W]` for input-resolution methods). */
  raw: tf.Tensor3D;
  /** ReLU-ed then min-max normalised maps, same shape. */
  normalized: tf.Tensor3D;
  extras: MethodExtras;
  /** How the maps were made, for the user (e.g. a batch shrunk to fit memory); usually empty. */
  notes: string[];
  /** Wall time of this method (the shared forward pass excluded), ms. */
  ms: number;
}

export interface ExplainRequest {
  labels: readonly number[];
  methods: readonly MethodId[];
  /** The detected set C_x; default: the explained labels. */
  detected?: readonly number[];
  gradientPath?: GradientPath;
  options?: Partial<MethodOptions>;
  /** Bytes the tensors of one batch of masked inputs may hold (default: core/batching.ts). */
  memoryBudgetBytes?: number;
  /** Called between methods and between a long method's batches; throw (a `cancelled` StudioError) to stop. */
  checkpoint?: () => void;
  onProgress?: (method: MethodId, done: number, total: number) => void;
}

export function validateLabels(adapter: Classifier, labels: readonly number[]): void {
  for (const label of labels) {
    if (!Number.isInteger(label) || label < 0 || label >= adapter.numClasses) {
      throw new StudioError('label-out-of-range', `Label ${label} does not exist: this model has classes 0 to ${adapter.numClasses - 1}.`);
    }
  }
}

/**
 * Runs the chosen methods for the chosen labels.
 * @param input the preprocessed image `[1, H, W, C]`; @param forward its forward pass. The caller keeps
 *   ownership of both.
 * @returns one entry per method, in order; the caller owns (and disposes) their tensors. On an error or a
 *   cancellation nothing is leaked.
 */
export async function explain(
  adapter: Classifier,
  input: tf.Tensor4D,
  forward: ForwardPass,
  request: ExplainRequest,
): Promise<MethodMaps[]> {
  validateLabels(adapter, request.labels);
  validateLabels(adapter, request.detected ?? []);
  for (const id of request.methods) {
    const availability = methodAvailability(getMethod(id), adapter);
    if (!availability.available)
      throw new StudioError('method-unavailable', availability.reason ?? `${id} is not available for this model.`);
  }
  const context = new ExplainContext({
    adapter,
    input,
    forward,
    labels: request.labels,
    ...(request.detected === undefined ? {} : { detected: request.detected }),
    ...(request.gradientPath === undefined ? {} : { gradientPath: request.gradientPath }),
    ...(request.options === undefined ? {} : { options: request.options }),
    ...(request.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: request.memoryBudgetBytes }),
  });
  const checkpoint = request.checkpoint ?? (() => undefined);
  const results: MethodMaps[] = [];
  try {
    for (const id of request.methods) {
      await yieldToEventLoop();
      checkpoint();
      const method = getMethod(id);
      const started = performance.now();
      const output = await method.compute(context, {
        checkpoint,
        progress: (done, total) => request.onProgress?.(id, done, total),
      });
      const [raw, normalized] = tf.tidy(() => {
        const rectified = tf.relu(output.maps) as tf.Tensor3D;
        return [rectified, normalizeMaps(rectified)] as const;
      });
      output.maps.dispose();
      results.push({
        method: id,
        resolution: method.resolution,
        raw,
        normalized,
        extras: output.extras ?? {},
        notes: output.notes ?? [],
        ms: performance.now() - started,
      });
    }
    return results;
  } catch (error) {
    results.forEach(disposeMethodMaps);
    throw error;
  } finally {
    context.dispose();
  }
}

export function disposeMethodMaps(maps: MethodMaps): void {
  maps.raw.dispose();
  maps.normalized.dispose();
}
