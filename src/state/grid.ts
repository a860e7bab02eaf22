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
