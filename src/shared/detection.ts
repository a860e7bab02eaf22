/**
 * The detected set `C_x` (spec "Notation"): which labels an image is taken to contain. It is the default
 * set of explained labels, and the set MinMax contrasts each label with. Works on downloaded numbers.
 * The rules, their defaults, their text notation (`--detect`, links, saved figures), their schema and the
 * studio editor's helpers, in one place.
 */
import * as v from 'valibot';
import type { HeadActivation } from './model-metadata';
import { topK } from './predictions';
import { integerField, numberField } from './schema';

export type DetectionRule =
  | { kind: 'sigmoid'; threshold: number } // sigmoid(S_n) > threshold
  | { kind: 'probability'; threshold: number } // p_n > threshold under the head's activation
  | { kind: 'top-k'; k: number }
  | { kind: 'ground-truth'; labels: number[] };

export type DetectionKind = DetectionRule['kind'];

export const DETECTION_KINDS: readonly DetectionKind[] = ['sigmoid', 'probability', 'top-k', 'ground-truth'];

export const DETECTION_KIND_TITLES: Readonly<Record<DetectionKind, string>> = {
  sigmoid: 'sigmoid(logit) > t',
  probability: 'probability > t',
  'top-k': 'top k',
  'ground-truth': 'ground truth',
};

const THRESHOLD = numberField(0, 1);
const TOP_K = integerField(1, 1_000_000);
const CLASS_INDEX = integerField(0, 1_000_000);

/** A rule as JSON (stored settings, journals, requests to the engine). */
export const DetectionRuleSchema = v.variant(
  'kind',
  [
    v.strictObject({ kind: v.literal('sigmoid'), threshold: THRESHOLD.schema }),
    v.strictObject({ kind: v.literal('probability'), threshold: THRESHOLD.schema }),
    v.strictObject({ kind: v.literal('top-k'), k: TOP_K.schema }),
    v.strictObject({
      kind: v.literal('ground-truth'),
      labels: v.array(CLASS_INDEX.schema, `a list of class indices (${CLASS_INDEX.allowed})`),
    }),
  ],
  `a rule of kind ${DETECTION_KINDS.join(', ')}`,
) as unknown as v.GenericSchema<unknown, DetectionRule>;

// Shared frozen objects: store selectors return them, and React needs stable values.
const SIGMOID_DEFAULT: DetectionRule = Object.freeze({ kind: 'sigmoid', threshold: 0.5 });
const TOP_K_DEFAULT: DetectionRule = Object.freeze({ kind: 'top-k', k: 3 });

/** Sigmoid heads: `sigmoid(S) > 0.5`; softmax (and linear) heads: the top 3. */
export function defaultDetectionRule(headActivation: HeadActivation): DetectionRule {
  return headActivation === 'sigmoid' ? SIGMOID_DEFAULT : TOP_K_DEFAULT;
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
    case 'sigmoid':
      return `sigmoid:${rule.threshold}`;
    case 'probability':
      return `prob:${rule.threshold}`;
    case 'top-k':
      return `topk:${rule.k}`;
    case 'ground-truth':
      return `gt:${rule.labels.join(',')}`;
  }
}

export function describeDetectionRule(rule: DetectionRule): string {
  switch (rule.kind) {
    case 'sigmoid':
      return `sigmoid(S) > ${rule.threshold}`;
    case 'probability':
      return `p > ${rule.threshold}`;
    case 'top-k':
      return `top ${rule.k}`;
    case 'ground-truth':
      return `ground truth ${rule.labels.join(', ')}`;
  }
}

/** The same rule (null and undefined are the same: the head's default). */
export function sameRule(a: DetectionRule | null | undefined, b: DetectionRule | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

// ---- the studio's rule editor ----

/** A rule of another kind, keeping what can be kept (thresholds stay thresholds). */
export function ruleOfKind(kind: DetectionKind, previous: DetectionRule, fallbackLabels: readonly number[]): DetectionRule {
  if (kind === previous.kind) return previous;
  switch (kind) {
    case 'sigmoid':
      return { kind, threshold: previous.kind === 'probability' ? previous.threshold : 0.5 };
    case 'probability':
      return { kind, threshold: previous.kind === 'sigmoid' ? previous.threshold : 0.5 };
    case 'top-k':
      return { kind, k: 3 };
    case 'ground-truth':
      return { kind, labels: [...fallbackLabels] };
  }
}

/** The editable value of a rule as text: the threshold, k, or the labels comma-separated. */
export function ruleValueText(rule: DetectionRule): string {
  switch (rule.kind) {
    case 'sigmoid':
    case 'probability':
      return String(rule.threshold);
    case 'top-k':
      return String(rule.k);
    case 'ground-truth':
      return rule.labels.join(', ');
  }
}

/** Parses comma- or space-separated class indices; every one must be an integer in [0, numClasses). */
export function parseLabelList(text: string, numClasses: number): { labels: number[] } | { error: string } {
  const parts = text.split(/[\s,;]+/).filter((part) => part !== '');
  if (parts.length === 0) return { error: 'Enter at least one class index.' };
  const labels: number[] = [];
  for (const part of parts) {
    const n = Number(part);
    if (!/^\d+$/.test(part) || !Number.isSafeInteger(n)) return { error: `"${part}" is not a class index (a whole number).` };
    if (n >= numClasses) return { error: `Class ${n} does not exist: this model has classes 0 to ${numClasses - 1}.` };
    if (!labels.includes(n)) labels.push(n);
  }
  return { labels };
}

/** The rule `kind` with the value typed by the user, or why the value is not valid. */
export function ruleFromText(kind: DetectionKind, text: string, numClasses: number): { rule: DetectionRule } | { error: string } {
  const trimmed = text.trim();
  switch (kind) {
    case 'sigmoid':
    case 'probability': {
      const threshold = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(threshold) || threshold < THRESHOLD.min || threshold > THRESHOLD.max)
        return { error: `The threshold is ${THRESHOLD.allowed}.` };
      return { rule: { kind, threshold } };
    }
    case 'top-k': {
      const k = Number(trimmed);
      if (trimmed === '' || !Number.isInteger(k) || k < 1 || k > numClasses)
        return { error: `k is a whole number from 1 to ${numClasses}.` };
      return { rule: { kind, k } };
    }
    case 'ground-truth': {
      const parsed = parseLabelList(trimmed, numClasses);
      return 'error' in parsed ? parsed : { rule: { kind, labels: parsed.labels } };
    }
  }
}
