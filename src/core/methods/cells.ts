/**
 * The maps of a figure's cells for one image: every (method, label) pair of a grid row, through the shared
 * pipeline (one forward pass; each method run once for all the labels it is asked for). 'top' stands for
 * the image's highest-scoring class. Used by the studio's figure builder (in the worker) and by
 * `npm run figure`, so both explain a row the same way.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DetectionRule } from '../../shared/detection';
import type { Classifier, ForwardPass } from '../model/classifier';
import { topK } from '../../shared/predictions';
import { detectedOf, detectionRuleFor, explainImage, scoresOf, type ImagePass } from '../pipeline';
import type { MethodOptions } from '../../shared/options';
import type { MethodId } from '../../shared/methods';

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
  adapter: Classifier,
  input: tf.Tensor4D,
  forward: ForwardPass,
  requests: readonly CellRequest[],
  extras: { detection?: DetectionRule; options?: Partial<MethodOptions>; checkpoint?: () => void } = {},
): Promise<CellMaps> {
  const pass: ImagePass = { input, forward, ...(await scoresOf(adapter, forward)), forwardMs: 0 };
  const [best] = topK(pass.probs, pass.logits, 1);
  const top = { label: best!.label, prob: best!.prob };
  const detected = detectedOf(pass, detectionRuleFor(adapter, extras.detection));
  const resolved = requests.map((request) => ({ method: request.method, label: request.label === 'top' ? top.label : request.label }));
  const byMethod = new Map<MethodId, number[]>();
  for (const { method, label } of resolved) {
    const labels = byMethod.get(method) ?? [];
    if (!labels.includes(label)) labels.push(label);
    byMethod.set(method, labels);
  }
  const found = new Map<string, CellMap>();
  for (const [method, labels] of byMethod) {
    const image = await explainImage(adapter, pass, {
      labels,
      methods: [method],
      contrast: detected.length > 0 ? detected : [top.label],
      keepRaw: true,
      ...(extras.detection === undefined ? {} : { detection: extras.detection }),
      ...(extras.options === undefined ? {} : { options: extras.options }),
      ...(extras.checkpoint === undefined ? {} : { checkpoint: extras.checkpoint }),
    });
    for (const map of image.maps)
      found.set(`${method}|${map.label}`, { method, label: map.label, shape: map.shape, normalized: map.normalized, raw: map.raw! });
  }
  return { cells: resolved.map(({ method, label }) => found.get(`${method}|${label}`)!), top, detected };
}
