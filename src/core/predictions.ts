/** Predictions and the default set of labels to explain, from downloaded probabilities (no tensors). */
import type { HeadActivation } from './model/metadata';

export interface RankedClass {
  label: number;
  prob: number;
  logit: number;
}

/** The k most probable classes, most probable first (ties: lower index first). */
export function topK(probs: ArrayLike<number>, logits: ArrayLike<number>, k: number): RankedClass[] {
  const order = Array.from({ length: probs.length }, (_, index) => index);
  order.sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  return order.slice(0, Math.max(0, Math.min(k, probs.length))).map((label) => ({
    label,
    prob: probs[label] as number,
    logit: logits[label] as number,
  }));
}

/**
 * The default labels to explain (spec: detected set): for a sigmoid head every class with `p > threshold`
 * (the most probable one if none passes); for a softmax (or linear) head the top-k (default 3).
 */
export function defaultLabels(probs: ArrayLike<number>, headActivation: HeadActivation, options: { topK?: number; threshold?: number } = {}): number[] {
  if (headActivation === 'sigmoid') {
    const threshold = options.threshold ?? 0.5;
    const passing: number[] = [];
    for (let index = 0; index < probs.length; index += 1) if ((probs[index] as number) > threshold) passing.push(index);
    if (passing.length > 0) return passing;
    return topK(probs, probs, 1).map((ranked) => ranked.label);
  }
  return topK(probs, probs, options.topK ?? 3).map((ranked) => ranked.label);
}
