/**
 * Evaluation records and the report computed from them, on plain data (no TF.js: the UI thread may import
 * this to aggregate and export a folder's results). The records are made by evaluate.ts.
 */
import {
  FaithfulnessAggregator,
  FAITHFULNESS_METRICS,
  HIGHER_IS_BETTER,
  type DetectionScores,
  type FaithfulnessReport,
  type SaliencyCurves,
} from './scores';
import { ConfusionMatrix } from './localisation';

/** One image's results: everything the report needs, nothing that cannot be serialised. */
export interface ImageEvaluation {
  /** The image's name (its file name), the key for resuming. */
  name: string;
  /** Probabilities `Y = p(x)` over all labels. */
  probabilities: number[];
  detected: number[];
  /** scores[method][label] for every detected label. */
  scores: Record<string, Record<string, DetectionScores>>;
  /** How it was computed, when worth saying (e.g. batches shrunk to fit memory). */
  notes?: string[];
  /** With `curveSteps`: curves[method][label], the deletion and insertion curves of every detected label. */
  curves?: Record<string, Record<string, SaliencyCurves>>;
  /** With a mask: the ground-truth classes, and per method the pointing hits and the prior's confusion counts. */
  localisation?: {
    classes: number[];
    perMethod: Record<string, { hits: Record<string, boolean>; confusion: number[] }>;
  };
  ms: number;
}

/** The report of a set of records: faithfulness per method (per class, macro), curves' areas, localisation. */
export interface EvaluationReport {
  images: number;
  /** Explained detections per method (the same for every method). */
  detections: number;
  faithfulness: Record<string, FaithfulnessReport>;
  /** Mean areas under the deletion (lower is better) and insertion (higher) curves per method, over the detections that have curves. */
  curves?: Record<string, { deletionAuc: number; insertionAuc: number; count: number }>;
  localisation?: Record<
    string,
    {
      pointing: { perClass: Array<number | null>; support: number[]; macro: number | null };
      segmentation: { perClassIou: Array<number | null>; meanIou: number | null; backgroundThreshold: number };
    }
  >;
}

/** The report of a set of image records (order-independent: sums and counts). */
export function aggregateEvaluations(
  records: readonly ImageEvaluation[],
  methods: readonly string[],
  numClasses: number,
  backgroundThreshold: number,
): EvaluationReport {
  const faithfulness: Record<string, FaithfulnessReport> = {};
  const withMasks = records.filter((record) => record.localisation !== undefined);
  const localisation: NonNullable<EvaluationReport['localisation']> = {};
  let detections = 0;
  for (const method of methods) {
    const aggregator = new FaithfulnessAggregator(numClasses);
    for (const record of records) {
      for (const [label, scores] of Object.entries(record.scores[method] ?? {})) aggregator.add(Number(label), scores);
    }
    faithfulness[method] = aggregator.report();
    if (withMasks.length > 0) {
      const hits = new Array<number>(numClasses).fill(0);
      const support = new Array<number>(numClasses).fill(0);
      const confusion = new ConfusionMatrix(numClasses + 1);
      for (const record of withMasks) {
        const entry = record.localisation!.perMethod[method];
        if (entry === undefined) continue;
        for (const [label, hit] of Object.entries(entry.hits)) {
          support[Number(label)] = support[Number(label)]! + 1;
          if (hit) hits[Number(label)] = hits[Number(label)]! + 1;
        }
        entry.confusion.forEach((count, i) => {
          confusion.counts[i] = confusion.counts[i]! + count;
        });
      }
      const perClass = support.map((count, k) => (count === 0 ? null : (100 * hits[k]!) / count));
      const present = perClass.filter((value): value is number => value !== null);
      const iou = confusion.iou().map((value) => (Number.isNaN(value) ? null : 100 * value));
      const meanIou = confusion.meanIou();
      localisation[method] = {
        pointing: { perClass, support, macro: present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length },
        segmentation: { perClassIou: iou, meanIou: Number.isNaN(meanIou) ? null : 100 * meanIou, backgroundThreshold },
      };
    }
  }
  for (const record of records) detections += Object.keys(record.scores[methods[0] ?? ''] ?? {}).length;
  const curves: NonNullable<EvaluationReport['curves']> = {};
  for (const method of methods) {
    const all = records.flatMap((record) => Object.values(record.curves?.[method] ?? {}));
    if (all.length === 0) continue;
    curves[method] = {
      deletionAuc: all.reduce((sum, curve) => sum + curve.deletionAuc, 0) / all.length,
      insertionAuc: all.reduce((sum, curve) => sum + curve.insertionAuc, 0) / all.length,
      count: all.length,
    };
  }
  return {
    images: records.length,
    detections,
    faithfulness,
    ...(Object.keys(curves).length > 0 ? { curves } : {}),
    ...(withMasks.length > 0 ? { localisation } : {}),
  };
}

const METRIC_NAMES: Record<string, string> = { ic: '%IC', ad: '%AD', ar: '%AR', ado: '%ADO', aro: '%ARO', f1Plus: 'F1+', f1Minus: 'F1-' };

/** The Table-2 layout: rows metrics, columns methods, macro averages, the best per row marked. */
export function reportCsv(report: EvaluationReport, methods: readonly string[]): string {
  const lines = [['metric', 'better', ...methods, 'support'].join(',')];
  for (const metric of FAITHFULNESS_METRICS) {
    const values = methods.map((method) => report.faithfulness[method]?.[metric].macro ?? null);
    const present = values.filter((value): value is number => value !== null);
    const best = present.length === 0 ? null : (HIGHER_IS_BETTER[metric] ? Math.max(...present) : Math.min(...present)).toFixed(2);
    const support = report.faithfulness[methods[0] ?? '']?.[metric].support.reduce((a, b) => a + b, 0) ?? 0;
    lines.push(
      [
        METRIC_NAMES[metric],
        HIGHER_IS_BETTER[metric] ? 'higher' : 'lower',
        ...values.map((value) => (value === null ? '' : `${value.toFixed(2)}${value.toFixed(2) === best ? '*' : ''}`)),
        String(support),
      ].join(','),
    );
  }
  if (report.curves !== undefined) {
    lines.push(
      [
        'deletion AUC',
        'lower',
        ...methods.map((method) => report.curves?.[method]?.deletionAuc.toFixed(4) ?? ''),
        String(report.curves[methods[0] ?? '']?.count ?? ''),
      ].join(','),
    );
    lines.push(
      [
        'insertion AUC',
        'higher',
        ...methods.map((method) => report.curves?.[method]?.insertionAuc.toFixed(4) ?? ''),
        String(report.curves[methods[0] ?? '']?.count ?? ''),
      ].join(','),
    );
  }
  if (report.localisation !== undefined) {
    lines.push(
      ['pointing game', 'higher', ...methods.map((method) => report.localisation?.[method]?.pointing.macro?.toFixed(2) ?? ''), ''].join(
        ',',
      ),
    );
    lines.push(
      ['mIoU', 'higher', ...methods.map((method) => report.localisation?.[method]?.segmentation.meanIou?.toFixed(2) ?? ''), ''].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A report's CSV (reportCsv) as an aligned text table for the terminal: numbers right-aligned. */
export function csvAsTextTable(csv: string): string {
  const rows = csv
    .trim()
    .split('\n')
    .map((line) => line.split(','));
  const numeric = (text: string): boolean => /^-?[\d.]+[* ]?$/.test(text);
  // Unmarked numbers get a space where the best-of-row mark (*) would be, so that the digits align.
  for (const row of rows) for (let c = 2; c < row.length; c += 1) if (numeric(row[c]!) && !row[c]!.endsWith('*')) row[c] = `${row[c]} `;
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => (column > 1 && numeric(cell) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '));
  return `${lines.join('\n')}\n`;
}

/**
 * The ground-truth classes in a labels file: a JSON list of class indices or names, or a text file with one
 * index or name per line (or separated by commas). Names are matched case-insensitively to `labelNames`.
 * Throws on an unknown name or an index out of range.
 */
export function parseLabelsFile(text: string, labelNames: readonly string[]): number[] {
  let items: unknown[];
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed)) throw new Error('a labels file must hold a list');
    items = parsed;
  } else {
    items = trimmed
      .split(/[\n,]+/)
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }
  const lower = labelNames.map((name) => name.toLowerCase());
  const out = new Set<number>();
  for (const item of items) {
    const asNumber = typeof item === 'number' ? item : typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : null;
    const index = asNumber ?? (typeof item === 'string' ? lower.indexOf(item.toLowerCase()) : -1);
    if (!Number.isInteger(index) || index < 0 || index >= labelNames.length) throw new Error(`unknown label ${JSON.stringify(item)}`);
    out.add(index);
  }
  return [...out].sort((a, b) => a - b);
}
