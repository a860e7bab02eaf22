/** Pure helpers of the heatmap grid (rows and columns, captions). */
import { formatValue } from '../shared/format';
import type { AnalyzeResult, MethodId } from '../shared/protocol';

/**
 * The grid's axes: the explained labels that have maps (in the result's order) and the methods that
 * have maps (in the order of the first label's maps, i.e. the request's order, then any others).
 */
export function gridAxes(result: Pick<AnalyzeResult, 'labels' | 'maps'>): { labels: number[]; methods: MethodId[] } {
  const labels = result.labels.filter((l) => result.maps.some((m) => m.label === l));
  for (const map of result.maps) if (!labels.includes(map.label)) labels.push(map.label);
  const methods: MethodId[] = [];
  for (const map of result.maps) if (!methods.includes(map.method)) methods.push(map.method);
  return { labels, methods };
}

/** A number for a caption: fixed for ordinary magnitudes, exponential for tiny or huge ones. */
/** A measured value (see shared/format.ts): whole numbers as counts, else 4 decimals or exponent form. */
export const formatNumber = formatValue;

const EXTRA_NAMES: Readonly<Record<string, string>> = { completenessGap: 'completeness gap' };

/** A method's extra numbers for a caption, e.g. "completeness gap 1.234e-3"; '' when none. */
export function extrasText(extras: Record<string, number> | undefined): string {
  return Object.entries(extras ?? {})
    .map(([key, value]) => `${EXTRA_NAMES[key] ?? key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} ${formatNumber(value)}`)
    .join(' · ');
}

/** Methods that contrast each label with the rest of the detected set (MinMax-CAM, Eq. 4 of the seed). */
const CONTRAST_METHODS: readonly MethodId[] = ['minmax-cam', 'd-minmax-cam', 'minmax-gradcam', 'd-minmax-gradcam'];
/** Mean pairwise correlation of the detected labels' CAMs above which they are taken for one object. */
export const SAME_OBJECT_CORRELATION = 0.8;

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i += 1) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= n;
  meanB /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i += 1) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/**
 * When the result shows a contrast method (MinMax) and the detected labels' CAMs (or Grad-CAMs) overlap
 * strongly (mean pairwise Pearson correlation >= SAME_OBJECT_CORRELATION), the labels most likely name
 * one object (e.g. Arabian_camel, ram, bighorn on one animal): the contrast then removes what they share,
 * the object itself, and leaves what tells them apart. Returns the mean correlation, or null.
 */
export function sameObjectOverlap(result: Pick<AnalyzeResult, 'maps' | 'detected'>): number | null {
  const detected = result.detected ?? [];
  if (detected.length < 2 || !result.maps.some((m) => CONTRAST_METHODS.includes(m.method))) return null;
  for (const base of ['cam', 'gradcam'] as const) {
    const maps = detected.map((label) => result.maps.find((m) => m.method === base && m.label === label));
    if (maps.some((m) => m === undefined)) continue;
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < maps.length; i += 1)
      for (let j = i + 1; j < maps.length; j += 1) {
        sum += pearson(maps[i]!.normalized, maps[j]!.normalized);
        pairs += 1;
      }
    const mean = sum / pairs;
    return mean >= SAME_OBJECT_CORRELATION ? mean : null;
  }
  return null;
}
