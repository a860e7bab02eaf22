/**
 * The studio's per-image metrics table (TF-free: the UI may import it). For one image every detected label
 * is one detection, so the per-class value of the specification is that label's value, and the macro
 * average over classes is the mean over the detected labels.
 */
import type { MetricsResult } from '../shared/protocol';

export interface MetricInfo {
  id: 'ic' | 'ad' | 'ar' | 'ado' | 'aro' | 'f1Plus' | 'f1Minus' | 'deletionAuc' | 'insertionAuc';
  name: string;
  higherIsBetter: boolean;
  /** What it measures, for the tooltip. */
  description: string;
  /** Percent (x 100) or a plain area. */
  percent: boolean;
}

export const METRICS: readonly MetricInfo[] = [
  {
    id: 'ic',
    name: '%IC',
    higherIsBetter: true,
    percent: true,
    description: 'Increase in confidence: the label is more probable with only its map kept',
  },
  { id: 'ad', name: '%AD', higherIsBetter: false, percent: true, description: 'Average drop of the label when only its map is kept' },
  {
    id: 'ar',
    name: '%AR',
    higherIsBetter: true,
    percent: true,
    description: 'Average retention: drop of the label when its map is removed',
  },
  {
    id: 'ado',
    name: '%ADO',
    higherIsBetter: true,
    percent: true,
    description: 'Average drop of the other detected labels when only this map is kept (2+ detections)',
  },
  {
    id: 'aro',
    name: '%ARO',
    higherIsBetter: false,
    percent: true,
    description: 'Drop of the other detected labels when this map is removed (2+ detections)',
  },
  { id: 'f1Plus', name: 'F1+', higherIsBetter: true, percent: true, description: 'F1 of AR and ADO' },
  { id: 'f1Minus', name: 'F1-', higherIsBetter: false, percent: true, description: 'F1 of AD and ARO' },
  {
    id: 'deletionAuc',
    name: 'Deletion AUC',
    higherIsBetter: false,
    percent: false,
    description: 'Area under the probability curve as the most salient pixels are removed',
  },
  {
    id: 'insertionAuc',
    name: 'Insertion AUC',
    higherIsBetter: true,
    percent: false,
    description: 'Area under the probability curve as the most salient pixels are added',
  },
];

export interface MetricsTableCell {
  /** Mean over the detected labels (x 100 for percent metrics); null where no label has a value. */
  value: number | null;
  /** Per detected label, in the same unit. */
  perLabel: Array<{ label: number; value: number | null }>;
  best: boolean;
}

export interface MetricsTable {
  methods: string[];
  rows: Array<{ metric: MetricInfo; cells: MetricsTableCell[] }>;
  detected: number[];
}

/** Metrics x methods for one image, the best value of each row marked (ties all marked). */
export function metricsTable(result: MetricsResult, methods: readonly string[]): MetricsTable {
  const { evaluation } = result;
  const present = methods.filter((method) => evaluation.scores[method] !== undefined);
  const rows = METRICS.map((metric) => {
    const cells = present.map((method) => {
      const perLabel = evaluation.detected.map((label) => {
        let raw: number | null;
        if (metric.id === 'deletionAuc' || metric.id === 'insertionAuc')
          raw = evaluation.curves?.[method]?.[String(label)]?.[metric.id] ?? null;
        else raw = evaluation.scores[method]?.[String(label)]?.[metric.id] ?? null;
        return { label, value: raw === null ? null : metric.percent ? 100 * raw : raw };
      });
      const values = perLabel.map((entry) => entry.value).filter((value): value is number => value !== null);
      return { value: values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length, perLabel, best: false };
    });
    const values = cells.map((cell) => cell.value).filter((value): value is number => value !== null);
    if (values.length > 1) {
      // Compared at the precision shown (1 decimal for percentages, 3 for areas): equal-looking values tie.
      const shown = (value: number): number => Number(value.toFixed(metric.percent ? 1 : 3));
      const best = metric.higherIsBetter ? Math.max(...values.map(shown)) : Math.min(...values.map(shown));
      for (const cell of cells) cell.best = cell.value !== null && shown(cell.value) === best;
    }
    return { metric, cells };
  });
  return { methods: present, rows, detected: [...evaluation.detected] };
}

/** A folder report as the same table (macro averages per method; percent metrics only), for the same chart. */
export function reportTable(
  report: { faithfulness: Record<string, Record<string, { macro: number | null }>> },
  methods: readonly string[],
): MetricsTable {
  const present = methods.filter((method) => report.faithfulness[method] !== undefined);
  const rows = METRICS.filter((metric) => metric.percent).map((metric) => {
    const cells = present.map((method) => ({ value: report.faithfulness[method]?.[metric.id]?.macro ?? null, perLabel: [], best: false }));
    const shown = cells
      .map((cell) => cell.value)
      .filter((value): value is number => value !== null)
      .map((value) => Number(value.toFixed(1)));
    if (shown.length > 1) {
      const best = metric.higherIsBetter ? Math.max(...shown) : Math.min(...shown);
      for (const cell of cells) cell.best = cell.value !== null && Number(cell.value.toFixed(1)) === best;
    }
    return { metric, cells };
  });
  return { methods: present, rows, detected: [] };
}
