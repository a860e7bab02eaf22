import { describe, expect, it } from 'vitest';
import type { MetricsResult } from '../shared/protocol';
import { metricsTable, reportTable } from './metrics-table';

const none = { ado: null, aro: null, f1Plus: null, f1Minus: null };

describe('metricsTable', () => {
  it('means over the detected labels, percent units, best per row by direction, null where undefined', () => {
    const result: MetricsResult = {
      jobId: 1,
      loadId: 1,
      backend: 'wasm',
      detectionRule: 'top 2',
      evaluation: {
        name: 'x',
        probabilities: [0.6, 0.3],
        detected: [0, 1],
        ms: 1,
        scores: {
          cam: {
            0: { ic: 1, ad: 0.2, ar: 0.4, ado: 0.5, aro: 0.1, f1Plus: 0.44, f1Minus: 0.13 },
            1: { ic: 0, ad: 0.4, ar: 0.2, ado: 0.3, aro: 0.3, f1Plus: 0.24, f1Minus: 0.34 },
          },
          gradcam: { 0: { ic: 0, ad: 0.1, ar: 0.1, ...none }, 1: { ic: 0, ad: 0.1, ar: 0.1, ...none } },
        },
        curves: { cam: { 0: { fractions: [0, 1], deletion: [1, 0], insertion: [0, 1], deletionAuc: 0.5, insertionAuc: 0.5 } } },
      },
    };
    const table = metricsTable(result, ['cam', 'gradcam', 'scorecam']);
    expect(table.methods).toEqual(['cam', 'gradcam']);
    const row = (id: string) => table.rows.find((r) => r.metric.id === id)!;
    expect(row('ic').cells.map((c) => c.value)).toEqual([50, 0]);
    expect(row('ic').cells.map((c) => c.best)).toEqual([true, false]);
    expect(row('ad').cells[0]!.value).toBeCloseTo(30, 10);
    expect(row('ad').cells.map((c) => c.best)).toEqual([false, true]); // lower is better
    expect(row('ado').cells[1]!.value).toBeNull();
    expect(row('ado').cells[0]!.best).toBe(false); // one value: nothing to compare
    expect(row('deletionAuc').cells[0]!.value).toBe(0.5); // only label 0 has a curve
    expect(row('deletionAuc').cells[0]!.perLabel).toEqual([
      { label: 0, value: 0.5 },
      { label: 1, value: null },
    ]);
  });
});

describe('reportTable', () => {
  it('the folder report as chart rows: macro values, percent metrics only, best by direction', () => {
    const macro = (value: number | null) => ({ macro: value });
    const faithfulness = {
      cam: { ic: macro(30), ad: macro(20), ar: macro(60), ado: macro(90), aro: macro(2), f1Plus: macro(70), f1Minus: macro(1) },
      'minmax-cam': { ic: macro(25), ad: macro(25), ar: macro(58), ado: macro(95), aro: macro(1), f1Plus: macro(68), f1Minus: macro(null) },
    };
    const table = reportTable({ faithfulness }, ['cam', 'minmax-cam', 'absent']);
    expect(table.methods).toEqual(['cam', 'minmax-cam']);
    expect(table.rows.map((row) => row.metric.id)).toEqual(['ic', 'ad', 'ar', 'ado', 'aro', 'f1Plus', 'f1Minus']);
    expect(table.rows[1]!.cells.map((cell) => cell.best)).toEqual([true, false]);
    expect(table.rows[3]!.cells.map((cell) => cell.best)).toEqual([false, true]);
    expect(table.rows[6]!.cells.map((cell) => cell.value)).toEqual([1, null]);
  });
});
