import { describe, expect, it } from 'vitest';
import type { MetricsResult } from '../worker/protocol';
import { metricsTable } from './metrics-table';

const none = { ado: null, aro: null, f1Plus: null, f1Minus: null };

describe('metricsTable', () => {
  it('means over the detected labels, percent units, best per row by direction, null where undefined', () => {
    const result: MetricsResult = {
      jobId: 1, loadId: 1, backend: 'wasm', detectionRule: 'top 2',
      evaluation: {
        name: 'x', probabilities: [0.6, 0.3], detected: [0, 1], ms: 1,
        scores: {
          cam: { 0: { ic: 1, ad: 0.2, ar: 0.4, ado: 0.5, aro: 0.1, f1Plus: 0.44, f1Minus: 0.13 }, 1: { ic: 0, ad: 0.4, ar: 0.2, ado: 0.3, aro: 0.3, f1Plus: 0.24, f1Minus: 0.34 } },
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
    expect(row('deletionAuc').cells[0]!.perLabel).toEqual([{ label: 0, value: 0.5 }, { label: 1, value: null }]);
  });
});
