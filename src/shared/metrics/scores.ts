/**
 * The per-detection faithfulness metrics and their aggregation, on plain numbers (no TF.js: the UI thread may
 * import this). Definitions: faithfulness.ts and ../shared/docs/methods-and-metrics.md.
 */
/** `F_beta(a, b) = (1 + beta^2) a b / (beta^2 b + a)`; 0 where the denominator is 0 (never NaN). */
export function fBeta(a: number, b: number, beta = 1): number {
  const denominator = beta * beta * b + a;
  return denominator === 0 ? 0 : ((1 + beta * beta) * a * b) / denominator;
}

/** The relative drop `max(0, y - o) / y`; 0 when `y` is 0 (a label the model gives no probability cannot drop). */
export function relativeDrop(y: number, o: number): number {
  if (!(y > 0)) return 0;
  return Math.max(0, y - o) / y;
}

export const FAITHFULNESS_METRICS = ['ic', 'ad', 'ar', 'ado', 'aro', 'f1Plus', 'f1Minus'] as const;
export type FaithfulnessMetric = (typeof FAITHFULNESS_METRICS)[number];

/** Which direction is better, per metric (for the report's "best" marks and the charts' arrows). */
export const HIGHER_IS_BETTER: Record<FaithfulnessMetric, boolean> = {
  ic: true,
  ad: false,
  ar: true,
  ado: true,
  aro: false,
  f1Plus: true,
  f1Minus: false,
};

/** The metrics of one explained detection, as fractions in [0, 1]; the "others" metrics are null with one detection. */
export interface DetectionScores {
  ic: number;
  ad: number;
  ar: number;
  ado: number | null;
  aro: number | null;
  f1Plus: number | null;
  f1Minus: number | null;
}

/**
 * The per-detection metrics of label `label` from the probability vectors `Y` (original), `O` (map kept) and
 * `Obar` (map removed), all of length L; `detected` is the image's detected set `C_i` (it should hold `label`).
 */
export function detectionScores(
  original: ArrayLike<number>,
  kept: ArrayLike<number>,
  removed: ArrayLike<number>,
  label: number,
  detected: readonly number[],
): DetectionScores {
  const y = original[label]!;
  const ic = y < kept[label]! ? 1 : 0;
  const ad = relativeDrop(y, kept[label]!);
  const ar = relativeDrop(y, removed[label]!);
  const others = detected.filter((d) => d !== label);
  if (others.length === 0) return { ic, ad, ar, ado: null, aro: null, f1Plus: null, f1Minus: null };
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  const ado = mean(others.map((d) => relativeDrop(original[d]!, kept[d]!)));
  const aro = mean(others.map((d) => relativeDrop(original[d]!, removed[d]!)));
  return { ic, ad, ar, ado, aro, f1Plus: fBeta(ar, ado), f1Minus: fBeta(ad, aro) };
}

/** One metric aggregated: per class (percent, null without support), the macro average and the supports. */
export interface AggregatedMetric {
  perClass: Array<number | null>;
  support: number[];
  /** Mean of the per-class values over the classes with support; null when none has. */
  macro: number | null;
}

export type FaithfulnessReport = Record<FaithfulnessMetric, AggregatedMetric>;

/** Per-class then macro aggregation of detection scores, exactly as the specification's authors' code. */
export class FaithfulnessAggregator {
  private readonly sums: Record<FaithfulnessMetric, Float64Array>;
  private readonly counts: Record<FaithfulnessMetric, Int32Array>;

  constructor(readonly numClasses: number) {
    this.sums = Object.fromEntries(FAITHFULNESS_METRICS.map((m) => [m, new Float64Array(numClasses)])) as Record<
      FaithfulnessMetric,
      Float64Array
    >;
    this.counts = Object.fromEntries(FAITHFULNESS_METRICS.map((m) => [m, new Int32Array(numClasses)])) as Record<
      FaithfulnessMetric,
      Int32Array
    >;
  }

  add(label: number, scores: DetectionScores): void {
    if (!Number.isInteger(label) || label < 0 || label >= this.numClasses)
      throw new RangeError(`label ${label} is not in [0, ${this.numClasses})`);
    for (const metric of FAITHFULNESS_METRICS) {
      const value = scores[metric];
      if (value === null) continue;
      if (!Number.isFinite(value)) throw new RangeError(`${metric} of label ${label} is ${value}`);
      this.sums[metric][label] = this.sums[metric][label]! + value;
      this.counts[metric][label] = this.counts[metric][label]! + 1;
    }
  }

  report(): FaithfulnessReport {
    const out = {} as FaithfulnessReport;
    for (const metric of FAITHFULNESS_METRICS) {
      const support = Array.from(this.counts[metric]);
      const perClass = support.map((count, k) => (count === 0 ? null : (100 * this.sums[metric][k]!) / count));
      const present = perClass.filter((value): value is number => value !== null);
      out[metric] = { perClass, support, macro: present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length };
    }
    return out;
  }
}

/** A deletion or insertion curve: the label's probability at each fraction of pixels removed / added. */
export interface SaliencyCurves {
  fractions: number[];
  deletion: number[];
  insertion: number[];
  /** Trapezoidal areas under the curves over fractions in [0, 1] (deletion: lower is better; insertion: higher). */
  deletionAuc: number;
  insertionAuc: number;
}

/** Trapezoidal area under `ys` over `xs`. */
export function areaUnderCurve(xs: readonly number[], ys: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < xs.length; i += 1) area += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
  return area;
}
