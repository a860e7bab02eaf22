/**
 * Every ONNX backend test case (Debian's libonnx-testdata, installed by .ci/run) through the importer: a case
 * the importer accepts must give the expected outputs within 1e-4; the others are refused with a message
 * naming what is not supported. The committed table (docs/onnx-support.json, `npm run docs:onnx`) must say
 * exactly what this run finds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../../node/backend';
import { supportTable, type SupportTable } from '../../../testing/onnx-support';
import { ONNX_TESTDATA, runCase, testdataCases, type CaseResult } from '../../../testing/onnx-testdata';

const cases = testdataCases();
if (cases.length === 0 && process.env['CI'])
  throw new Error(`CI must run the ONNX backend test cases: none found at ${ONNX_TESTDATA} (apt-get install libonnx-testdata)`);

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe.skipIf(cases.length === 0)(
  `the ONNX backend test cases${cases.length === 0 ? ` (cannot run: no data at ${ONNX_TESTDATA}; apt-get install libonnx-testdata)` : ''}`,
  () => {
    it('every case the importer accepts passes; the committed table is what this run finds', async () => {
      const results: CaseResult[] = [];
      for (const { suite, directory } of cases) results.push(await runCase(suite, directory));
      const failed = results
        .filter((result) => result.status === 'failed')
        .map((result) => `${result.suite}/${result.name}: ${result.reason}`);
      expect(failed).toEqual([]);
      expect(results.filter((result) => result.status === 'passed').length).toBeGreaterThan(500);
      for (const result of results.filter((r) => r.status === 'not supported'))
        expect(result.reason, result.name).toMatch(/support|takes tensors only|16-bit|cannot compute/);
      const committed = JSON.parse(
        readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'onnx-support.json'), 'utf8'),
      ) as SupportTable;
      const now = supportTable(results, committed.source);
      expect(committed.totals, 'run npm run docs:onnx').toEqual(now.totals);
      expect(committed.cases.map((c) => `${c.suite}/${c.name}:${c.status}`)).toEqual(
        now.cases.map((c) => `${c.suite}/${c.name}:${c.status}`),
      );
    }, 300_000);
  },
);
