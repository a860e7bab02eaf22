/** Multi-label scores at a fixed threshold: per-class precision, recall and F1, and their macro average. */

export interface ClassScore {
  label: string;
  /** Scenes with the label. */
  support: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface MultiLabelScores {
  threshold: number;
  scenes: number;
  perClass: ClassScore[];
  /** Unweighted mean of the per-class F1. */
  macroF1: number;
  /** Fraction of scenes whose whole label set is predicted exactly. */
  exactMatch: number;
}

const round = (value: number): number => Math.round(value * 1e4) / 1e4;

/**
 * Scores of probabilities against multi-hot labels (both `[N * L]`, row-major). A class with no positive
 * and no predicted scene gets F1 = 1 (nothing to find, nothing wrongly found); precision and recall with
 * an empty denominator are 1 likewise. Values rounded to 4 decimals.
 */
export function multiLabelScores(
  probabilities: Float32Array,
  labels: Float32Array,
  labelNames: readonly string[],
  threshold = 0.5,
): MultiLabelScores {
  const classes = labelNames.length;
  const scenes = labels.length / classes;
  if (!Number.isInteger(scenes) || probabilities.length !== labels.length) throw new Error('multiLabelScores: shapes do not match');
  const tp = new Float64Array(classes);
  const fp = new Float64Array(classes);
  const fn = new Float64Array(classes);
  let exact = 0;
  for (let n = 0; n < scenes; n += 1) {
    let allRight = true;
    for (let c = 0; c < classes; c += 1) {
      const predicted = probabilities[n * classes + c]! >= threshold;
      const actual = labels[n * classes + c]! >= 0.5;
      if (predicted && actual) tp[c]! += 1;
      else if (predicted) fp[c]! += 1;
      else if (actual) fn[c]! += 1;
      if (predicted !== actual) allRight = false;
    }
    if (allRight) exact += 1;
  }
  const f1s: number[] = [];
  const perClass = labelNames.map((label, c): ClassScore => {
    const t = tp[c]!;
    const precision = t + fp[c]! === 0 ? 1 : t / (t + fp[c]!);
    const recall = t + fn[c]! === 0 ? 1 : t / (t + fn[c]!);
    const f1 = 2 * t + fp[c]! + fn[c]! === 0 ? 1 : (2 * t) / (2 * t + fp[c]! + fn[c]!);
    f1s.push(f1);
    return { label, support: t + fn[c]!, precision: round(precision), recall: round(recall), f1: round(f1) };
  });
  const macro = f1s.reduce((sum, f1) => sum + f1, 0) / classes;
  return { threshold, scenes, perClass, macroF1: round(macro), exactMatch: round(exact / scenes) };
}
