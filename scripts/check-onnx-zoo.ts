#!/usr/bin/env -S npx tsx
/**
 * `npm run check:onnx-zoo`: every model family the studio must run (torchvision's ResNet, ResNeXt, Wide
 * ResNet, VGG, DenseNet, MobileNet v2 / v3, EfficientNet-B0, and ResNeSt-50 as the reference code builds it;
 * random weights), exported to ONNX by scripts/onnx/export-zoo.py, run through the studio's engine (wasm,
 * Node): logits against torch's (max |difference| / their range, must be under 1e-4), the CAM target and
 * head found, forward time (median) beside torch's on the same machine and threads (2). Prints JSON; with
 * --readme also writes the table into README.md (between the onnx-zoo markers) and docs/onnx-zoo.json.
 *
 * Options: --dir DIR (the exports; default models/onnx-zoo, made when missing: ~1.2 GB), --arch a,b
 * (some of them), --repeat N (forward passes timed, default 3), --readme. Exits 1 when a model fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/node/backend.ts';
import { loadClassifierFromDirectory, readFloat32 } from '../src/node/files.ts';

const ARCHITECTURES = [
  'resnet18',
  'resnext50_32x4d',
  'wide_resnet50_2',
  'vgg11',
  'densenet121',
  'mobilenet_v2',
  'mobilenet_v3_small',
  'efficientnet_b0',
  'resnest50',
];
const TOLERANCE = 1e-4;
const ROOT = join(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: join(ROOT, 'models', 'onnx-zoo') },
    arch: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    readme: { type: 'boolean', default: false },
  },
});
const archs = values.arch === undefined ? ARCHITECTURES : values.arch.split(',');
const missing = archs.filter((arch) => !existsSync(join(values.dir, arch, 'reference.json')));
if (missing.length > 0) {
  const run = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts', 'onnx', 'export-zoo.py'), values.dir, ...missing], {
    stdio: ['ignore', 2, 2],
  });
  if (run.status !== 0) throw new Error('export-zoo.py failed (needs python3-torch, python3-torchvision, python3-onnx)');
}

interface Reference {
  torchvision: string;
  ops: Record<string, number>;
  parameters: number;
  logits: number[];
}

// torch's forward times in this run (the same models rebuilt from their seeds), not the ones of the export.
const timing = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts', 'onnx', 'export-zoo.py'), '--time', ...archs], { encoding: 'utf8' });
if (timing.status !== 0) throw new Error(`export-zoo.py --time failed: ${timing.stderr}`);
const torchTimes = JSON.parse(timing.stdout.trim().split('\n').at(-1)!) as {
  torch: string;
  threads: number;
  forwardMs: Record<string, number>;
};

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const backend = await initNodeBackend('wasm');
const rows = [];
for (const arch of archs) {
  const directory = join(values.dir, arch);
  const reference = JSON.parse(readFileSync(join(directory, 'reference.json'), 'utf8')) as Reference;
  const before = tf.memory().numTensors;
  const loadStarted = performance.now();
  const loaded = await loadClassifierFromDirectory(directory);
  const loadMs = performance.now() - loadStarted;
  const adapter = loaded.adapter;
  const [height, width, channels] = adapter.inputShape;
  const input = tf.tensor4d(readFloat32(join(directory, 'input.f32')), [1, height, width, channels]);
  const forwardOnce = async (): Promise<{ ms: number; logits: Float32Array }> => {
    const started = performance.now();
    const logitsTensor = adapter.logitsOf(input);
    const logits = (await logitsTensor.data()) as Float32Array;
    const ms = performance.now() - started;
    logitsTensor.dispose();
    return { ms, logits };
  };
  const { logits } = await forwardOnce(); // the first pass compiles kernels
  const times: number[] = [];
  for (let i = 0; i < Number(values.repeat); i += 1) times.push((await forwardOnce()).ms);
  input.dispose();
  const range = Math.max(...reference.logits) - Math.min(...reference.logits);
  let worst = 0;
  for (let k = 0; k < reference.logits.length; k += 1) worst = Math.max(worst, Math.abs((logits[k] ?? NaN) - reference.logits[k]!));
  const row = {
    arch,
    nodes: Object.values(reference.ops).reduce((a, b) => a + b, 0),
    ops: Object.keys(reference.ops),
    parameters: reference.parameters,
    target: `${adapter.targetLayer} ${adapter.targetShape.join('x')}`,
    head: adapter.headKind,
    loadMs: Math.round(loadMs),
    forwardMs: Math.round(median(times)),
    torchForwardMs: Math.round(torchTimes.forwardMs[arch]!),
    ratioToTorch: Number((median(times) / torchTimes.forwardMs[arch]!).toFixed(2)),
    maxDifferenceOverRange: Number.isNaN(worst / range) ? null : Number((worst / range).toExponential(2)),
    passed: worst / range < TOLERANCE,
  };
  adapter.dispose();
  const leaked = tf.memory().numTensors - before;
  rows.push({ ...row, leakedTensors: leaked, passed: row.passed && leaked === 0 });
  console.error(JSON.stringify(rows.at(-1)));
}

const first = JSON.parse(readFileSync(join(values.dir, archs[0]!, 'reference.json'), 'utf8')) as Reference;
const report = {
  backend: `${backend} (Node, ${availableParallelism()} cores)`,
  baseline: `torch ${torchTimes.torch}, torchvision ${first.torchvision}, ${torchTimes.threads} threads, this machine, timed in this run`,
  input: '1 x 224 x 224 x 3, random, the same for torch and the studio',
  tolerance: TOLERANCE,
  models: rows,
};
console.log(JSON.stringify(report, null, 2));

if (values.readme) {
  writeFileSync(join(ROOT, 'docs', 'onnx-zoo.json'), `${JSON.stringify(report, null, 1)}\n`);
  const table = [
    '| Architecture | Nodes | Operators | CAM target, head | Max diff / range | Forward (studio, wasm) | Forward (torch) | Ratio |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.arch} | ${row.nodes} | ${row.ops.join(', ')} | ${row.target}, ${row.head} | ${row.maxDifferenceOverRange ?? 'NaN'}${row.passed ? '' : ' **failed**'} | ${row.forwardMs} ms | ${row.torchForwardMs} ms | ${row.ratioToTorch} |`,
    ),
  ].join('\n');
  const readmePath = join(ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const begin = '<!-- onnx-zoo:begin -->';
  const end = '<!-- onnx-zoo:end -->';
  if (!readme.includes(begin)) throw new Error(`README.md has no ${begin} marker`);
  writeFileSync(readmePath, `${readme.slice(0, readme.indexOf(begin) + begin.length)}\n${table}\n${readme.slice(readme.indexOf(end))}`);
}
process.exitCode = rows.every((row) => row.passed) ? 0 : 1;
