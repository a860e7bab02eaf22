/** Ranked predictions from downloaded probabilities (no tensors). */

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
