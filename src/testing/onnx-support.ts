/**
 * The table of what the ONNX importer supports, from the ONNX backend test cases (onnx-testdata.ts):
 * per case its status, per operator how many of its cases pass, fail or are refused. Written to
 * docs/onnx-support.json and summarised in the README by `npm run docs:onnx`; the test
 * (src/core/model/onnx/backend-testdata.test.ts) runs every case and checks the committed table.
 */
import { ONNX_OPS } from '../core/model/onnx/graph';
import type { CaseResult } from './onnx-testdata';

export interface SupportTable {
  source: string;
  cases: Array<Pick<CaseResult, 'suite' | 'name' | 'status'> & { reason?: string }>;
  /** Per operator the importer implements: cases using it that passed, failed, or were refused for another reason. */
  operators: Record<string, { passed: number; failed: number; notSupported: number }>;
  totals: { passed: number; failed: number; notSupported: number };
}

export function supportTable(results: readonly CaseResult[], source: string): SupportTable {
  const operators: SupportTable['operators'] = {};
  for (const op of Object.keys(ONNX_OPS).sort()) operators[op] = { passed: 0, failed: 0, notSupported: 0 };
  for (const result of results) {
    for (const op of result.ops) {
      const row = operators[op];
      if (row === undefined) continue;
      if (result.status === 'passed') row.passed += 1;
      else if (result.status === 'failed') row.failed += 1;
      else row.notSupported += 1;
    }
  }
  const count = (status: CaseResult['status']): number => results.filter((result) => result.status === status).length;
  return {
    source,
    cases: results.map(({ suite, name, status, reason }) => ({
      suite,
      name,
      status,
      ...(status === 'passed' || reason === undefined ? {} : { reason: reason.slice(0, 300) }),
    })),
    operators,
    totals: { passed: count('passed'), failed: count('failed'), notSupported: count('not supported') },
  };
}

/** The README's summary of a table. */
export function supportMarkdown(table: SupportTable): string {
  const ops = Object.entries(table.operators);
  const exercised = ops.filter(([, row]) => row.passed > 0);
  const untested = ops.filter(([, row]) => row.passed + row.failed + row.notSupported === 0).map(([op]) => op);
  return [
    `The ONNX project's backend test cases (${table.source}): **${table.totals.passed} pass** (within 1e-4 of the expected outputs, relative to their largest magnitude), ${table.totals.failed} fail, ${table.totals.notSupported} are refused by the importer with a message (an operator, attribute or type it does not support). Per operator, cases passed / refused (docs/onnx-support.json lists every case):`,
    '',
    '| operator | passed | refused |',
    '|---|---|---|',
    ...exercised.map(([op, row]) => `| ${op} | ${row.passed} | ${row.notSupported} |`),
    '',
    untested.length === 0 ? '' : `Also implemented, with no test case of their own in that data: ${untested.join(', ')}.`,
  ].join('\n');
}
