/**
 * The maps of a figure's cells for one image: every (method, label) pair of a grid row, through the shared
 * pipeline (one forward pass; each method run once for all the labels it is asked for). 'top' stands for
 * the image's highest-scoring class. Used by the studio's figure builder (in the worker) and by
 * `npm run figure`, so both explain a row the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { defaultDetectionRule, detectedSet, type DetectionRule } from '../detection';
import type { Classifier, ForwardPass } from '../model/classifier';
import { topK } from '../predictions';
import { disposeMethodMaps, explain, type ExplainRequest } from './explain';
import type { MethodOptions } from './context';
import type { MethodId } from './method-ids';

export interface CellRequest {
  method: MethodId;
  label: number | 'top';
}

export interface CellMap {
  method: MethodId;
  label: number;
  /** Shape `[h, w]` of the maps (feature or input resolution). */
  shape: [number, number];
  /** ReLU-ed then min-max normalised, row-major. */
  normalized: Float32Array;
  /** ReLU-ed, before normalisation (for exports). */
  raw: Float32Array;
}

export interface CellMaps {
  /** The cells, in request order. */
  cells: CellMap[];
  /** The highest-scoring class and its probability. */
  top: { label: number; prob: number };
  /** The detected set C_x the MinMax methods contrast against. */
  detected: number[];
}

/**
 * Explains the cells of one image. `input: [1, H, W, C]` and its `forward` pass stay the caller's.
 * @returns plain arrays; no tensor outlives the call (also on error or cancellation).
 */
export async function explainCells(
  adapter: Classifier, input: tf.Tensor4D, forward: ForwardPass, requests: readonly CellRequest[],
  extras: { detection?: DetectionRule; options?: Partial<MethodOptions>; checkpoint?: () => void } = {},
): Promise<CellMaps> {
  const probabilities = adapter.probabilities(forward.logits);
  let probs: Float32Array;
  let logits: Float32Array;
  try {
    [probs, logits] = await Promise.all([probabilities.data() as Promise<Float32Array>, forward.logits.data() as Promise<Float32Array>]);
  } finally {
    probabilities.dispose();
  }
  const [best] = topK(probs, logits, 1);
  const top = { label: best!.label, prob: best!.prob };
  const detected = detectedSet(extras.detection ?? defaultDetectionRule(adapter.headActivation), probs, logits);
  const resolved = requests.map((request) => ({ method: request.method, label: request.label === 'top' ? top.label : request.label }));
  const byMethod = new Map<MethodId, number[]>();
  for (const { method, label } of resolved) {
    const labels = byMethod.get(method) ?? [];
    if (!labels.includes(label)) labels.push(label);
    byMethod.set(method, labels);
  }
  const found = new Map<string, CellMap>();
  for (const [method, labels] of byMethod) {
    const request: ExplainRequest = {
      labels, methods: [method], detected: detected.length > 0 ? detected : [top.label],
      ...(extras.options === undefined ? {} : { options: extras.options }),
      ...(extras.checkpoint === undefined ? {} : { checkpoint: extras.checkpoint }),
    };
    const results = await explain(adapter, input, forward, request);
    try {
      const result = results[0]!;
      const [count, h, w] = result.normalized.shape;
      const [normalized, raw] = await Promise.all([result.normalized.data() as Promise<Float32Array>, result.raw.data() as Promise<Float32Array>]);
      for (let i = 0; i < count; i += 1) {
        found.set(`${method}|${labels[i]}`, {
          method, label: labels[i]!, shape: [h, w],
          normalized: normalized.slice(i * h * w, (i + 1) * h * w), raw: raw.slice(i * h * w, (i + 1) * h * w),
        });
      }
    } finally {
      results.forEach(disposeMethodMaps);
    }
  }
  return { cells: resolved.map(({ method, label }) => found.get(`${method}|${label}`)!), top, detected };
}
