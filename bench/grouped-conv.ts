/**
 * `npm run bench:grouped-conv`: the three exact ways to run a grouped convolution in TF.js
 * (src/core/model/grouped-conv.ts: per-group convolutions + concat, one block-diagonal convolution, a
 * depthwise convolution + a sum), timed per layer (bench/grouped-conv-cases.ts: ResNeXt-50's and
 * ResNeSt-50's grouped 3x3 convolutions), forward and input gradient, on wasm and cpu in Node and on WebGPU
 * and wasm in headless Chromium; and on whole models (ResNeXt-50 32x4d and ResNeSt-50 of
 * `npm run check:onnx-zoo`, when exported) in Node on wasm: forward and the saliency input gradient with
 * each strategy. Prints JSON.
 *
 * Options: --repeat N (median of N, default 3), --backends wasm,cpu,browser-webgpu,browser-wasm, --models
 * resnext50_32x4d,resnest50 (none: ''), --strategies per-group,block-diagonal,depthwise-sum,rule (whole models, in
 * that order; 'rule': groupedStrategyFor per layer), --zoo DIR (default models/onnx-zoo), --readme (write the tables into
 * docs/onnx-and-grouped-convolutions.md between the grouped-conv markers).
 */
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { build } from 'esbuild';
import { chromium } from '@playwright/test';
import { GROUPED_STRATEGIES, groupedStrategyFor, useGroupedStrategy } from '../src/core/model/grouped-conv';
import { disposeMethodMaps, explain } from '../src/core/methods/explain';
import { initNodeBackend } from '../src/node/backend';
import { loadClassifierFromDirectory, readFloat32 } from '../src/node/files';
import { GROUPED_LAYERS, benchGroupedLayers, type GroupedRow } from './grouped-conv-cases';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    backends: { type: 'string', default: 'wasm,cpu,browser-webgpu,browser-wasm' },
    models: { type: 'string', default: 'resnext50_32x4d,resnest50' },
    zoo: { type: 'string', default: join(ROOT, 'models', 'onnx-zoo') },
    strategies: { type: 'string', default: 'per-group,block-diagonal,depthwise-sum,rule' },
    readme: { type: 'boolean', default: false },
  },
});
const repeat = Math.max(1, Number(values.repeat));
const backends = values.backends.split(',').filter((b) => b !== '');
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const layers: Record<string, GroupedRow[] | { error: string }> = {};

for (const backend of backends.filter((b) => !b.startsWith('browser-'))) {
  await initNodeBackend(backend as 'wasm' | 'cpu');
  // The cpu backend is ~20x slower than wasm: one timed run is enough to rank the strategies.
  layers[`node-${backend}`] = await benchGroupedLayers(backend === 'cpu' ? 1 : repeat);
  console.error(`node-${backend} done`);
}

const browserBackends = backends.filter((b) => b.startsWith('browser-')).map((b) => b.slice('browser-'.length));
let adapter: unknown = null;
if (browserBackends.length > 0) {
  const bundle = await build({
    entryPoints: [join(ROOT, 'bench', 'grouped-conv-page.ts')],
    bundle: true,
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text;
  const wasmDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  // WebGPU needs an http page (not about:blank): the bundle and the wasm binaries from a local server.
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    if (path === '/') response.end('<!doctype html><meta charset="utf-8"><script src="/bench.js"></script>');
    else if (path === '/bench.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (path.endsWith('.wasm') && existsSync(join(wasmDir, path.slice(1))))
      response.writeHead(200, { 'content-type': 'application/wasm' }).end(readFileSync(join(wasmDir, path.slice(1))));
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  const browser = await chromium.launch({
    ...(existsSync(chromiumPath) ? { executablePath: chromiumPath } : {}),
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
  });
  try {
    for (const backend of browserBackends) {
      const page = await browser.newPage();
      page.setDefaultTimeout(0);
      await page.goto(`http://127.0.0.1:${port}/`);
      const result = await page.evaluate(
        ([name, n]) =>
          (window as unknown as { runGroupedBench: (b: string, r: number) => Promise<unknown> }).runGroupedBench(
            name as string,
            n as number,
          ),
        [backend, repeat] as const,
      );
      const { ran, rows, adapterInfo } = result as { ran: string; rows: GroupedRow[]; adapterInfo: unknown };
      layers[`browser-${backend}`] = ran === backend ? rows : { error: `asked for ${backend}, TF.js ran ${ran}` };
      if (backend === 'webgpu') adapter = adapterInfo;
      await page.close();
      console.error(`browser-${backend} done`);
    }
  } finally {
    await browser.close();
    server.close();
  }
}

// Whole models on wasm: each strategy loads the model anew (filters are laid out at load).
const models: Array<Record<string, unknown>> = [];
const modelNames = values.models.split(',').filter((m) => m !== '' && existsSync(join(values.zoo, m, 'model.onnx')));
if (modelNames.length > 0) await initNodeBackend('wasm');
for (const name of modelNames) {
  // Each strategy everywhere, and the per-layer rule of groupedStrategyFor ('rule'), in the order asked.
  for (const requested of values.strategies.split(',')) {
    const strategy = requested === 'rule' ? null : (GROUPED_STRATEGIES.find((s) => s === requested) ?? null);
    if (requested !== 'rule' && strategy === null) throw new Error(`unknown strategy ${requested}`);
    if (strategy === 'depthwise-sum' && name.startsWith('resnest')) {
      // Its intermediate tensor is C_in / g (32 to 512) times the output: the wasm heap overflows (measured: a
      // "memory access out of bounds" crash of the process in the input gradient).
      models.push({ model: name, strategy, skipped: 'out of wasm memory: the intermediate tensor is 32 to 512 times the output' });
      continue;
    }
    useGroupedStrategy(strategy);
    const loaded = await loadClassifierFromDirectory(join(values.zoo, name));
    const model = loaded.adapter;
    const input = tf.tensor4d(readFloat32(join(values.zoo, name, 'input.f32')), [1, 224, 224, 3]);
    const forwardTimes: number[] = [];
    const gradientTimes: number[] = [];
    let logits: Float32Array | null = null;
    for (let i = 0; i <= repeat; i += 1) {
      const started = performance.now();
      const forward = model.forward(input);
      logits = (await forward.logits.data()) as Float32Array;
      if (i > 0) forwardTimes.push(performance.now() - started);
      const gradientStarted = performance.now();
      const maps = await explain(model, input, forward, { labels: [0], methods: ['saliency'] });
      await maps[0]!.raw.data();
      if (i > 0) gradientTimes.push(performance.now() - gradientStarted);
      maps.forEach(disposeMethodMaps);
      tf.dispose([forward.activations, forward.logits]);
    }
    input.dispose();
    model.dispose();
    const reference = JSON.parse(readFileSync(join(values.zoo, name, 'reference.json'), 'utf8')) as { logits: number[] };
    const error = Math.max(...reference.logits.map((v, k) => Math.abs(v - logits![k]!)));
    models.push({
      model: name,
      strategy: strategy ?? 'rule',
      forwardMs: Math.round(median(forwardTimes)),
      saliencyMs: Math.round(median(gradientTimes)),
      maxLogitDifference: Number(error.toExponential(2)),
    });
    console.error(JSON.stringify(models.at(-1)));
  }
}
useGroupedStrategy(null);

const report = {
  machine: `${availableParallelism()} cores; browser WebGPU adapter: ${JSON.stringify(adapter)}`,
  repeat,
  layers,
  models,
};
if (values.readme) writeReadmeTables(report);

/** The README's tables: per layer and backend, forward / input-gradient ms of each strategy and the rule's choice; whole models. */
function writeReadmeTables({ layers: measured, models: wholeModels }: { layers: typeof layers; models: typeof models }): void {
  const lines: string[] = [];
  for (const [where, rows] of Object.entries(measured)) {
    if (!Array.isArray(rows)) {
      lines.push(`${where}: ${rows.error}`, '');
      continue;
    }
    lines.push(
      `Per layer, ${where} (batch 1, 224-px input; forward / input gradient, ms, median of ${repeat}; **bold**: what groupedStrategyFor picks there):`,
      '',
      '| layer | groups x channels | per-group | block-diagonal | depthwise-sum |',
      '| --- | --- | --- | --- | --- |',
    );
    const backend = where.replace(/^(node|browser)-/, '');
    for (const layer of GROUPED_LAYERS) {
      const cells = GROUPED_STRATEGIES.map((strategy) => {
        const row = rows.find((r) => r.layer === layer.name && r.strategy === strategy);
        const text = row === undefined ? '-' : `${Math.round(row.forwardMs)} / ${Math.round(row.inputGradientMs)}`;
        return groupedStrategyFor(backend, layer.groups, layer.inChannels / layer.groups) === strategy ? `**${text}**` : text;
      });
      lines.push(`| ${layer.name} | ${layer.groups} x ${layer.inChannels / layer.groups} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  if (wholeModels.length > 0) {
    lines.push(
      `Whole models (wasm, Node; forward and the saliency input gradient of one label, ms, median of ${repeat}; 'rule': per layer as above):`,
      '',
      '| model | strategy | forward | input gradient |',
      '| --- | --- | --- | --- |',
      ...wholeModels.map((m) =>
        m['skipped'] !== undefined
          ? `| ${String(m['model'])} | ${String(m['strategy'])} | not run: ${String(m['skipped'])} | |`
          : `| ${String(m['model'])} | ${String(m['strategy'])} | ${String(m['forwardMs'])} | ${String(m['saliencyMs'])} |`,
      ),
      '',
    );
  }
  const path = join(ROOT, 'docs', 'onnx-and-grouped-convolutions.md');
  const readme = readFileSync(path, 'utf8');
  const begin = '<!-- grouped-conv:begin -->';
  const end = '<!-- grouped-conv:end -->';
  if (!readme.includes(begin) || !readme.includes(end)) throw new Error(`docs/onnx-and-grouped-convolutions.md has no ${begin} ... ${end}`);
  writeFileSync(
    path,
    `${readme.slice(0, readme.indexOf(begin) + begin.length)}\n\n${lines.join('\n')}\n${readme.slice(readme.indexOf(end))}`,
  );
}

console.log(
  JSON.stringify(
    {
      machine: `${availableParallelism()} cores; browser WebGPU adapter: ${JSON.stringify(adapter)}`,
      repeat,
      note: 'median ms; batch 1; the input gradient is d/dx of sum(conv(x) * random weights); models: saliency of one label',
      layers,
      models,
    },
    null,
    1,
  ),
);
