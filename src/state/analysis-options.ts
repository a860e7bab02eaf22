/**
 * UI-side defaults and helpers for the detected set and the per-method options of an analysis.
 *
 * The UI thread may not import src/core/detection or src/core/methods/context at run time (they pull in
 * TF.js), so the defaults are copied here; src/state/analysis-options.test.ts checks they match the engine's.
 */
import type { DetectionRule, HeadActivation, MethodOptions } from '../worker/protocol';

export type DetectionKind = DetectionRule['kind'];
export type ScoreCamVariant = MethodOptions['scorecam']['variant'];

export const DETECTION_KINDS: readonly DetectionKind[] = ['sigmoid', 'probability', 'top-k', 'ground-truth'];

export const DETECTION_KIND_TITLES: Readonly<Record<DetectionKind, string>> = {
  'sigmoid': 'sigmoid(logit) > t',
  'probability': 'probability > t',
  'top-k': 'top k',
  'ground-truth': 'ground truth',
};

export const SCORECAM_VARIANTS: readonly ScoreCamVariant[] = ['probability', 'softmax-logits', 'increase-of-confidence'];

export const SCORECAM_VARIANT_TITLES: Readonly<Record<ScoreCamVariant, string>> = {
  'probability': 'probability p_c(x · H^k)',
  'softmax-logits': 'softmax over channels of the logits (pytorch-grad-cam)',
  'increase-of-confidence': 'increase of confidence (the paper)',
};

/** A copy of core's DEFAULT_METHOD_OPTIONS (src/core/methods/context.ts). */
export const DEFAULT_METHOD_OPTIONS: MethodOptions = Object.freeze({
  scorecam: Object.freeze({ variant: 'probability', batchSize: 16, maxChannels: null }),
  ablation: Object.freeze({ batchSize: 64 }),
  smoothgrad: Object.freeze({ samples: 20, noiseLevel: 0.15, seed: 0 }),
  integratedGradients: Object.freeze({ steps: 32, batchSize: 8 }),
}) as MethodOptions;

/** Sigmoid heads: `sigmoid(S) > 0.5`; softmax (and linear) heads: the top 3 (as core's defaultDetectionRule). */
export function defaultDetectionRule(headActivation: HeadActivation): DetectionRule {
  // Shared frozen objects: store selectors return them, and React needs stable values.
  return headActivation === 'sigmoid' ? SIGMOID_DEFAULT : TOP_K_DEFAULT;
}
const SIGMOID_DEFAULT: DetectionRule = Object.freeze({ kind: 'sigmoid', threshold: 0.5 });
const TOP_K_DEFAULT: DetectionRule = Object.freeze({ kind: 'top-k', k: 3 });

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
      if (trimmed === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) return { error: 'The threshold is a number from 0 to 1.' };
      return { rule: { kind, threshold } };
    }
    case 'top-k': {
      const k = Number(trimmed);
      if (trimmed === '' || !Number.isInteger(k) || k < 1 || k > numClasses) return { error: `k is a whole number from 1 to ${numClasses}.` };
      return { rule: { kind, k } };
    }
    case 'ground-truth': {
      const parsed = parseLabelList(trimmed, numClasses);
      return 'error' in parsed ? parsed : { rule: { kind, labels: parsed.labels } };
    }
  }
}

export function sameRule(a: DetectionRule | null | undefined, b: DetectionRule | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Describes a rule as the engine's `detectionRule` does (src/core/detection.ts describeDetectionRule). */
export function describeRule(rule: DetectionRule): string {
  switch (rule.kind) {
    case 'sigmoid': return `sigmoid(S) > ${rule.threshold}`;
    case 'probability': return `p > ${rule.threshold}`;
    case 'top-k': return `top ${rule.k}`;
    case 'ground-truth': return `ground truth ${rule.labels.join(', ')}`;
  }
}

/** A patch of method options: each family's fields may be given alone. */
export type MethodOptionsPatch = { [F in keyof MethodOptions]?: Partial<MethodOptions[F]> };

const clampInt = (value: number, min: number, max: number, fallback: number): number =>
  Number.isFinite(value) ? Math.max(min, Math.min(max, Math.round(value))) : fallback;
const clamp = (value: number, min: number, max: number, fallback: number): number =>
  Number.isFinite(value) ? Math.max(min, Math.min(max, value)) : fallback;

/** Applies a patch and keeps every number in a sensible range (bad input falls back to the current value). */
export function mergeMethodOptions(current: MethodOptions, patch: MethodOptionsPatch): MethodOptions {
  const scorecam = { ...current.scorecam, ...patch.scorecam };
  const ablation = { ...current.ablation, ...patch.ablation };
  const smoothgrad = { ...current.smoothgrad, ...patch.smoothgrad };
  const ig = { ...current.integratedGradients, ...patch.integratedGradients };
  return {
    scorecam: {
      variant: SCORECAM_VARIANTS.includes(scorecam.variant) ? scorecam.variant : current.scorecam.variant,
      batchSize: clampInt(scorecam.batchSize, 1, 1024, current.scorecam.batchSize),
      maxChannels: scorecam.maxChannels === null ? null : Number.isFinite(scorecam.maxChannels) ? clampInt(scorecam.maxChannels, 1, 1 << 20, 1) : current.scorecam.maxChannels,
    },
    ablation: { batchSize: clampInt(ablation.batchSize, 1, 1024, current.ablation.batchSize) },
    smoothgrad: {
      samples: clampInt(smoothgrad.samples, 1, 1000, current.smoothgrad.samples),
      noiseLevel: clamp(smoothgrad.noiseLevel, 0, 1, current.smoothgrad.noiseLevel),
      seed: clampInt(smoothgrad.seed, 0, 2 ** 31 - 1, current.smoothgrad.seed),
    },
    integratedGradients: {
      steps: clampInt(ig.steps, 1, 1000, current.integratedGradients.steps),
      batchSize: clampInt(ig.batchSize, 1, 1024, current.integratedGradients.batchSize),
    },
  };
}

/**
 * The `options` of an AnalyzeRequest: only the families that differ from the defaults, each one whole
 * (the engine merges families shallowly); undefined when everything is default.
 */
export function optionsForRequest(options: MethodOptions): Partial<MethodOptions> | undefined {
  const out: Partial<MethodOptions> = {};
  for (const key of Object.keys(DEFAULT_METHOD_OPTIONS) as (keyof MethodOptions)[]) {
    if (JSON.stringify(options[key]) !== JSON.stringify(DEFAULT_METHOD_OPTIONS[key])) {
      (out as Record<string, unknown>)[key] = { ...options[key] };
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A whole number typed in an option field, within [min, max]. */
export function parseIntegerField(text: string, min: number, max: number, what: string): { value: number } | { error: string } {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (trimmed === '' || !Number.isInteger(n) || n < min || n > max) return { error: `${what} is a whole number from ${min} to ${max}.` };
  return { value: n };
}

/** A number typed in an option field, within [min, max]. */
export function parseNumberField(text: string, min: number, max: number, what: string): { value: number } | { error: string } {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(n) || n < min || n > max) return { error: `${what} is a number from ${min} to ${max}.` };
  return { value: n };
}

/** Score-CAM's channel cap: empty = all channels, else a whole number >= 1. */
export function parseMaxChannels(text: string): { value: number | null } | { error: string } {
  if (text.trim() === '') return { value: null };
  return parseIntegerField(text, 1, 1 << 20, 'The channel cap');
}
