#!/usr/bin/env -S npx tsx
// `npm run docs:onnx`: runs the ONNX backend test cases (Debian's libonnx-testdata) through the importer and
// writes docs/onnx-support.json and its summary in docs/onnx-and-grouped-convolutions.md (between the onnx-support markers).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initNodeBackend } from '../src/node/backend.ts';
import { runCase, testdataCases, ONNX_TESTDATA } from '../src/testing/onnx-testdata.ts';
import { supportMarkdown, supportTable } from '../src/testing/onnx-support.ts';

await initNodeBackend('wasm');
const cases = testdataCases();
if (cases.length === 0) throw new Error(`no ONNX test data at ${ONNX_TESTDATA}: apt-get install libonnx-testdata`);
const results = [];
for (const { suite, directory } of cases) results.push(await runCase(suite, directory));
const table = supportTable(results, 'libonnx-testdata: node, pytorch-converted, pytorch-operator');
const root = join(import.meta.dirname, '..');
writeFileSync(join(root, 'docs', 'onnx-support.json'), `${JSON.stringify(table, null, 1)}\n`);
const readme = readFileSync(join(root, 'docs', 'onnx-and-grouped-convolutions.md'), 'utf8');
const begin = '<!-- onnx-support:begin -->';
const end = '<!-- onnx-support:end -->';
if (readme.includes(begin)) {
  const start = readme.indexOf(begin) + begin.length;
  writeFileSync(
    join(root, 'docs', 'onnx-and-grouped-convolutions.md'),
    `${readme.slice(0, start)}\n${supportMarkdown(table)}\n${readme.slice(readme.indexOf(end))}`,
  );
}
console.log(JSON.stringify(table.totals));
