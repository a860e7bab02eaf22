/**
 * The detected set `C_x` (spec "Notation"): which labels an image is taken to contain. It is the default
 * set of explained labels, and the set MinMax contrasts each label with. Works on downloaded numbers.
 */
import type { HeadActivation } from './model/metadata';
import { topK } from './predictions';

export type DetectionRule =
  | { kind: 'sigmoid'; threshold: number } // sigmoid(S_n) > threshold
  | { kind: 'probability'; threshold: number } // p_n > threshold under the head's activation
  | { kind: 'top-k'; k: number }
  | { kind: 'ground-truth'; labels: number[] };

/** Sigmoid heads: `p > 0.5`; softmax (and linear) heads: the top 3. */
export function defaultDetectionRule(headActivation: HeadActivation): DetectionRule {
  return headActivation === 'sigmoid' ? { kind: 'sigmoid', threshold: 0.5 } : { kind: 'top-k', k: 3 };
}

/**
 * The detected labels, in decreasing probability (ground truth: as given). A threshold that selects
 * nothing yields an empty set: callers decide what to explain then.
 */
export function detectedSet(rule: DetectionRule, probs: ArrayLike<number>, logits: ArrayLike<number>): number[] {
  const ranked = topK(probs, logits, probs.length);
  switch (rule.kind) {
    case 'sigmoid':
      return ranked.filter((entry) => 1 / (1 + Math.exp(-entry.logit)) > rule.threshold).map((entry) => entry.label);
    case 'probability':
      return ranked.filter((entry) => entry.prob > rule.threshold).map((entry) => entry.label);
    case 'top-k':
      return ranked.slice(0, Math.max(0, rule.k)).map((entry) => entry.label);
    case 'ground-truth':
      return [...new Set(rule.labels)];
  }
}

/** Parses `sigmoid:0.5`, `prob:0.2`, `topk:3` or `gt:12,15` (the command line's `--detect`). */
export function parseDetectionRule(text: string): DetectionRule {
  const [kind, value = ''] = text.split(':');
  const number = Number(value);
  switch (kind) {
    case 'sigmoid':
      if (value !== '' && number >= 0 && number <= 1) return { kind: 'sigmoid', threshold: number };
      break;
    case 'prob':
      if (value !== '' && number >= 0 && number <= 1) return { kind: 'probability', threshold: number };
      break;
    case 'topk':
      if (Number.isInteger(number) && number >= 1) return { kind: 'top-k', k: number };
      break;
    case 'gt': {
      const labels = value.split(',').map(Number);
      if (value !== '' && labels.every((label) => Number.isInteger(label) && label >= 0)) return { kind: 'ground-truth', labels };
      break;
    }
  }
  throw new Error(`Cannot read the detection rule "${text}": use sigmoid:T, prob:T (0 <= T <= 1), topk:K (K >= 1) or gt:N,N.`);
}

/** The rule in `parseDetectionRule`'s notation (saved figure settings, the command line). */
export function formatDetectionRule(rule: DetectionRule): string {
  switch (rule.kind) {
    case 'sigmoid': return `sigmoid:${rule.threshold}`;
    case 'probability': return `prob:${rule.threshold}`;
    case 'top-k': return `topk:${rule.k}`;
    case 'ground-truth': return `gt:${rule.labels.join(',')}`;
  }
}

export function describeDetectionRule(rule: DetectionRule): string {
  switch (rule.kind) {
    case 'sigmoid': return `sigmoid(S) > ${rule.threshold}`;
    case 'probability': return `p > ${rule.threshold}`;
    case 'top-k': return `top ${rule.k}`;
    case 'ground-truth': return `ground truth ${rule.labels.join(', ')}`;
  }
}
