#!/usr/bin/env -S npx tsx
// Trains the two shapes classifiers of issue #4 in Node on the TF.js wasm backend (`npm run train:shapes`):
// the plain GAP -> Dense(8, sigmoid) head into models/shapes-resnet/ and the KUR head into
// models/shapes-resnet-kur/ (model.json, weights.bin, metadata.json with config, seeds and scores).
// Deterministic: fixed seeds for the initializers, the data (generator seeds) and the data order.
// Progress is printed as JSON lines. See src/train/train.ts.
//
// Options:
//   --budget-minutes N   wall-clock budget of each model's optimisation (default 60: a safety net; the steps define the run)
//   --only plain|kur     train one variant
//   --arch resnet|resnest  the network (default resnet): resnest trains the split-attention network
//                        (src/train/shapes-model.ts, buildShapesResNeSt) into shapes-resnest/ (plain head only
//                        unless --only kur), with PyTorch doing the optimisation (--trainer torch, the default
//                        for resnest: src/train/torch-trainer.ts), then writes the ONNX export beside it
//                        (shapes-resnest-onnx/, scripts/onnx/shapes_resnest.py export, checked against TF.js)
//   --trainer tfjs|torch who runs the optimisation (default tfjs for resnet, torch for resnest)
//   --threads N          torch's threads (torch trainer; default 1)
//   --jobs 1|2           2 (default): the two variants train at the same time in two processes (the wasm
//                        backend runs one thread per process, so two cores train both in the time of one);
//                        1: one after the other in this process. Same results either way.
//   --out DIR            parent folder of shapes-resnet/ and shapes-resnet-kur/ (default models/)
//   --train-scenes N     the fixed set of training scenes, reshuffled every epoch (default 40000)
//   --fresh-scenes 1|0   1: new scenes every step instead (maxSteps x batch scenes, each seen once)
//   --ema D              keep an exponential moving average of the weights (decay D per step, e.g. 0.999) and save it
//   --max-steps N, --alpha A, --batch-size N, --lr X, --eval-every N, --stop-f1 X,
//   --profile-step N, --seed N, --size PX, --widths 16,32,64, --blocks N
//                        override the defaults of src/train/train.ts (smoke tests, tuning)
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNodeBackend } from '../src/node/backend.ts';
import {
  DEFAULT_TRAIN_CONFIG,
  generateDataSets,
  jsonLinesLogger,
  trainShapesModel,
  type HeadVariant,
  type TrainConfig,
} from '../src/train/train.ts';
import type { ShapesArchitecture } from '../src/train/shapes-model.ts';
import { saveTrainedModel } from '../src/train/save.ts';
import { TORCH_PYTHON, trainShapesModelInTorch } from '../src/train/torch-trainer.ts';
import { batchOf, range, type SceneSet } from '../src/train/data.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  only: HeadVariant | null;
  out: string;
  jobs: number;
  trainer: 'tfjs' | 'torch' | null;
  threads: number;
  overrides: Partial<TrainConfig>;
}

function parseArgs(argv: string[]): Args {
  const overrides: Partial<TrainConfig> = {};
  let trainer: Args['trainer'] = null;
  let threads = 1;
  let only: HeadVariant | null = null;
  let jobs = 2;
  let out = join(root, 'models');
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const number = (): number => {
      const parsed = Number(value);
      if (value === undefined || !Number.isFinite(parsed)) throw new Error(`${flag} needs a number`);
      i += 1;
      return parsed;
    };
    switch (flag) {
      case '--budget-minutes':
        overrides.budgetMinutes = number();
        break;
      case '--jobs':
        jobs = number();
        break;
      case '--max-steps':
        overrides.maxSteps = number();
        break;
      case '--train-scenes':
        overrides.trainScenes = number();
        overrides.freshTrainScenes = false;
        break;
      case '--fresh-scenes':
        overrides.freshTrainScenes = number() !== 0;
        break;
      case '--validation-scenes':
        overrides.validationScenes = number();
        break;
      case '--test-scenes':
        overrides.testScenes = number();
        break;
      case '--alpha':
        overrides.alpha = number();
        break;
      case '--batch-size':
        overrides.batchSize = number();
        break;
      case '--lr':
        overrides.learningRate = number();
        break;
      case '--eval-every':
        overrides.evalEvery = number();
        break;
      case '--stop-f1':
        overrides.stopAtValidationF1 = number();
        break;
      case '--profile-step':
        overrides.profileStep = number();
        break;
      case '--seed':
        overrides.model = { ...overrides.model, seed: number() };
        break;
      case '--size':
        overrides.model = { ...overrides.model, inputSize: number() };
        break;
      case '--widths':
        if (value === undefined || !/^\d+(,\d+)*$/.test(value))
          throw new Error('--widths takes comma-separated channel counts, e.g. 16,32,64');
        overrides.model = { ...overrides.model, widths: value.split(',').map(Number) };
        i += 1;
        break;
      case '--blocks':
        overrides.model = { ...overrides.model, blocksPerStage: number() };
        break;
      case '--zero-init-residual':
        overrides.model = { ...overrides.model, zeroInitResidual: number() !== 0 };
        break;
      case '--warmup-steps':
        overrides.warmupSteps = number();
        break;
      case '--weight-decay':
        overrides.weightDecay = number();
        break;
      case '--ema':
        overrides.emaDecay = number();
        break;
      case '--arch':
        if (value !== 'resnet' && value !== 'resnest') throw new Error('--arch takes resnet or resnest');
        overrides.model = { ...overrides.model, arch: value };
        i += 1;
        break;
      case '--trainer':
        if (value !== 'tfjs' && value !== 'torch') throw new Error('--trainer takes tfjs or torch');
        trainer = value;
        i += 1;
        break;
      case '--threads':
        threads = number();
        break;
      case '--only':
        if (value !== 'plain' && value !== 'kur') throw new Error('--only takes plain or kur');
        only = value;
        i += 1;
        break;
      case '--out':
        if (value === undefined) throw new Error('--out needs a folder');
        out = resolve(value);
        i += 1;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  if (overrides.alpha !== undefined && (overrides.alpha < 1 || overrides.alpha > 20)) throw new Error('--alpha must be in [1, 20]');
  return { only, out, jobs, trainer, threads, overrides };
}

const directoryOf = (out: string, variant: HeadVariant, arch: ShapesArchitecture = 'resnet'): string =>
  join(out, `shapes-${arch}${variant === 'plain' ? '' : '-kur'}`);

/** Runs this script once per variant in child processes at the same time; resolves their exit codes. */
async function trainInParallel(args: string[], out: string): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const codes = await Promise.all(
    (['plain', 'kur'] as const).map(
      (variant) =>
        new Promise<number>((done) => {
          const child = spawn(process.execPath, [...process.execArgv, script, ...args, '--only', variant], { stdio: 'inherit' });
          child.on('exit', (code) => done(code ?? 1));
        }),
    ),
  );
  const summary = (['plain', 'kur'] as const).map((variant) => {
    try {
      const metadata = JSON.parse(readFileSync(join(directoryOf(out, variant), 'metadata.json'), 'utf8')) as {
        training: { steps: number; trainSeconds: number; meanStepMs: number; stoppedBecause: string };
        scores: { validation: { macroF1: number }; test: { macroF1: number } };
      };
      return {
        variant,
        steps: metadata.training.steps,
        stoppedBecause: metadata.training.stoppedBecause,
        trainSeconds: metadata.training.trainSeconds,
        meanStepMs: metadata.training.meanStepMs,
        validationMacroF1: metadata.scores.validation.macroF1,
        testMacroF1: metadata.scores.test.macroF1,
      };
    } catch {
      return { variant, error: 'no metadata.json' };
    }
  });
  jsonLinesLogger({ event: 'summary', exitCodes: codes, models: summary });
  if (codes.some((code) => code !== 0)) process.exitCode = 1;
}

/**
 * Writes `<directory>-onnx/` (model.onnx and the same metadata.json) through torch, after checking torch's
 * probabilities for 8 test scenes against the TF.js model's (scripts/onnx/shapes_resnest.py export).
 */
async function exportOnnx(model: tf.LayersModel, directory: string, test: SceneSet): Promise<void> {
  const onnxDirectory = `${directory}-onnx`;
  mkdirSync(onnxDirectory, { recursive: true });
  const { x, y } = batchOf(test, range(0, 8));
  const probabilities = tf.tidy(() => model.predict(x) as tf.Tensor);
  const check = { input: await x.array(), probabilities: await probabilities.array() };
  tf.dispose([x, y, probabilities]);
  const checkFile = join(onnxDirectory, '.check.json');
  writeFileSync(checkFile, JSON.stringify(check));
  try {
    execFileSync(
      TORCH_PYTHON,
      [join(root, 'scripts/onnx/shapes_resnest.py'), 'export', directory, join(onnxDirectory, 'model.onnx'), checkFile],
      {
        stdio: 'inherit',
      },
    );
  } finally {
    rmSync(checkFile, { force: true });
  }
  const metadata = JSON.parse(readFileSync(join(directory, 'metadata.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(
    join(onnxDirectory, 'metadata.json'),
    `${JSON.stringify({ ...metadata, name: `${String(metadata['name'])} (ONNX)`, targetLayer: undefined, exportedFrom: directory.split('/').pop() }, null, 1)}\n`,
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { only, out, jobs, trainer, threads, overrides } = parseArgs(args);
  const arch = overrides.model?.arch ?? 'resnet';
  if (only === null && arch === 'resnet' && jobs >= 2) {
    await trainInParallel(args, out);
    return;
  }
  const backend = await initNodeBackend('wasm');
  const command = ['npm run train:shapes', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  jsonLinesLogger({ event: 'setup', backend, command, out, node: process.version });
  const dataStarted = performance.now();
  const data = generateDataSets({ ...DEFAULT_TRAIN_CONFIG, ...overrides });
  const dataSeconds = Math.round((performance.now() - dataStarted) / 100) / 10;
  const variants: HeadVariant[] = only !== null ? [only] : arch === 'resnest' ? ['plain'] : ['plain', 'kur'];
  const summary: Record<string, unknown>[] = [];
  for (const variant of variants) {
    const inTorch = (trainer ?? (arch === 'resnest' ? 'torch' : 'tfjs')) === 'torch';
    const result = inTorch
      ? await trainShapesModelInTorch({ ...overrides, variant }, data, { threads })
      : await trainShapesModel({ ...overrides, variant }, data);
    const directory = directoryOf(out, variant, arch);
    const { bytes } = await saveTrainedModel(result, directory, { command, dataSeconds });
    if (arch === 'resnest') await exportOnnx(result.model, directory, data.test);
    summary.push({
      variant,
      directory,
      bytes,
      steps: result.steps,
      stoppedBecause: result.stoppedBecause,
      trainSeconds: result.trainSeconds,
      meanStepMs: result.meanStepMs,
      validationMacroF1: result.validation.macroF1,
      testMacroF1: result.test.macroF1,
    });
    result.model.dispose();
  }
  jsonLinesLogger({ event: 'summary', models: summary });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
