/**
 * `npm run bench:onnx`: the same network through the ONNX importer and through TF.js layers, on the same
 * backend in one run, with PyTorch's time for the same work measured in the same run as the native baseline
 * (issue #15's note):
 *
 * - ResNet50 (the Keras ImageNet weights): TF.js layers (models/resnet50-imagenet) against their ONNX export
 *   (models/resnet50-imagenet-onnx, scripts/onnx/export-resnet50.py), golden chelsea input; baseline
 *   ../shared/bench/torch_baseline.py on the same weights;
 * - ResNeSt-50 (random weights, models/onnx-zoo/resnest50, `npm run check:onnx-zoo`): ONNX only (no TF.js
 *   layers form exists); baseline scripts/onnx/export-zoo.py --time.
 *
 * Per model: forward pass of one image (adapter.forward), and the input gradient of the top 3 labels
 * (Vanilla gradient / saliency through `explain`, the studio's path), medians of --repeat runs, and their
 * ratios to torch's. Prints JSON. Exports missing ONNX files first (needs Debian's python3-torch).
 *
 * Options: --repeat N (default 3), --backend wasm|cpu (default wasm).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { disposeMethodMaps, explain } from '../src/core/methods/explain';
import type { Classifier } from '../src/core/model/classifier';
import { initNodeBackend } from '../src/node/backend';
import { loadClassifierFromDirectory, readFloat32 } from '../src/node/files';
import { goldenDir, repoRoot, resnetDir } from '../src/testing/golden';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '3' }, backend: { type: 'string', default: 'wasm' } } });
const repeat = Math.max(1, Number(values.repeat));
const python = process.env['CAM_STUDIO_TORCH_PYTHON'] ?? '/usr/bin/python3';
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
const runPython = (args: string[]): string =>
  execFileSync(python, args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const resnetOnnxDir = join(repoRoot, 'models', 'resnet50-imagenet-onnx');
const resnestDir = join(repoRoot, 'models', 'onnx-zoo', 'resnest50');
if (!existsSync(join(resnetOnnxDir, 'model.onnx'))) runPython([join('scripts', 'onnx', 'export-resnet50.py')]);
if (!existsSync(join(resnestDir, 'model.onnx')))
  runPython([join('scripts', 'onnx', 'export-zoo.py'), join('models', 'onnx-zoo'), 'resnest50']);

// The native baselines first, while nothing else runs (2 threads, as the project's engine uses 2 cores).
const goldenInput = join(goldenDir, 'chelsea.x.f32');
const torchResnet = JSON.parse(runPython([join('..', 'shared', 'bench', 'torch_baseline.py'), resnetDir, goldenInput])) as {
  engine: string;
  forwardMs: number;
  inputGradient3LabelsMs: number;
};
const torchResnest = JSON.parse(runPython([join('scripts', 'onnx', 'export-zoo.py'), '--time', 'resnest50'])) as {
  forwardMs: Record<string, number>;
  inputGradient3LabelsMs: Record<string, number>;
};

const backend = await initNodeBackend(values.backend as 'wasm' | 'cpu');

async function time(run: () => Promise<void>): Promise<number> {
  await run(); // warm-up: kernels, constants
  const ms: number[] = [];
  for (let i = 0; i < repeat; i += 1) {
    const started = performance.now();
    await run();
    ms.push(performance.now() - started);
  }
  return round(median(ms), 1);
}

/** Forward and 3-label saliency of one model; leaves no tensor. */
async function measure(
  directory: string,
  input: tf.Tensor4D,
): Promise<{ format: string; forwardMs: number; inputGradient3LabelsMs: number; top3: number[] }> {
  const before = tf.memory().numTensors;
  const loaded = await loadClassifierFromDirectory(directory);
  const adapter: Classifier = loaded.adapter;
  try {
    const forwardMs = await time(async () => {
      const pass = adapter.forward(input);
      await pass.logits.data();
      tf.dispose([pass.activations, pass.logits]);
    });
    const pass = adapter.forward(input);
    const top = tf.topk(pass.logits, 3);
    const top3 = Array.from(await top.indices.data());
    tf.dispose([top.values, top.indices]);
    const inputGradient3LabelsMs = await time(async () => {
      const results = await explain(adapter, input, pass, { labels: top3, methods: ['saliency'] });
      for (const result of results) {
        await result.raw.data();
        disposeMethodMaps(result);
      }
    });
    tf.dispose([pass.activations, pass.logits]);
    return { format: loaded.format, forwardMs, inputGradient3LabelsMs, top3 };
  } finally {
    adapter.dispose();
    if (tf.memory().numTensors > before) console.error(`warning: ${tf.memory().numTensors - before} tensors left`);
  }
}

const chelsea = tf.tensor4d(readFloat32(goldenInput), [1, 224, 224, 3]);
const resnestInput = tf.tensor4d(new Float32Array(readFileSync(join(resnestDir, 'input.f32')).buffer.slice(0)), [1, 224, 224, 3]);
const resnetLayers = await measure(resnetDir, chelsea);
const resnetOnnx = await measure(resnetOnnxDir, chelsea);
const resnest = await measure(resnestDir, resnestInput);
tf.dispose([chelsea, resnestInput]);

const ratio = (ours: number, theirs: number) => round(ours / theirs);
console.log(
  JSON.stringify(
    {
      backend,
      cores: availableParallelism(),
      repeat,
      node: process.version,
      torch: torchResnet.engine,
      resnet50: {
        torch: { forwardMs: round(torchResnet.forwardMs, 1), inputGradient3LabelsMs: round(torchResnet.inputGradient3LabelsMs, 1) },
        tfjsLayers: {
          ...resnetLayers,
          forwardVsTorch: ratio(resnetLayers.forwardMs, torchResnet.forwardMs),
          inputGradientVsTorch: ratio(resnetLayers.inputGradient3LabelsMs, torchResnet.inputGradient3LabelsMs),
        },
        onnx: {
          ...resnetOnnx,
          forwardVsTorch: ratio(resnetOnnx.forwardMs, torchResnet.forwardMs),
          inputGradientVsTorch: ratio(resnetOnnx.inputGradient3LabelsMs, torchResnet.inputGradient3LabelsMs),
        },
        onnxVsLayers: {
          forward: ratio(resnetOnnx.forwardMs, resnetLayers.forwardMs),
          inputGradient: ratio(resnetOnnx.inputGradient3LabelsMs, resnetLayers.inputGradient3LabelsMs),
        },
        sameTop3: resnetOnnx.top3.join() === resnetLayers.top3.join(),
      },
      resnest50: {
        torch: {
          forwardMs: round(torchResnest.forwardMs['resnest50']!, 1),
          inputGradient3LabelsMs: round(torchResnest.inputGradient3LabelsMs['resnest50']!, 1),
        },
        onnx: {
          ...resnest,
          forwardVsTorch: ratio(resnest.forwardMs, torchResnest.forwardMs['resnest50']!),
          inputGradientVsTorch: ratio(resnest.inputGradient3LabelsMs, torchResnest.inputGradient3LabelsMs['resnest50']!),
        },
      },
    },
    null,
    2,
  ),
);
