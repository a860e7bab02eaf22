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
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
import { saveTrainedModel } from '../src/train/save.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv: string[]): { only: HeadVariant | null; out: string; jobs: number; overrides: Partial<TrainConfig> } {
  const overrides: Partial<TrainConfig> = {};
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
  return { only, out, jobs, overrides };
}

const directoryOf = (out: string, variant: HeadVariant): string => join(out, variant === 'plain' ? 'shapes-resnet' : 'shapes-resnet-kur');

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

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { only, out, jobs, overrides } = parseArgs(args);
  if (only === null && jobs >= 2) {
    await trainInParallel(args, out);
    return;
  }
  const backend = await initNodeBackend('wasm');
  const command = ['npm run train:shapes', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  jsonLinesLogger({ event: 'setup', backend, command, out, node: process.version });
  const dataStarted = performance.now();
  const data = generateDataSets({ ...DEFAULT_TRAIN_CONFIG, ...overrides });
  const dataSeconds = Math.round((performance.now() - dataStarted) / 100) / 10;
  const variants: HeadVariant[] = only === null ? ['plain', 'kur'] : [only];
  const summary: Record<string, unknown>[] = [];
  for (const variant of variants) {
    const result = await trainShapesModel({ ...overrides, variant }, data);
    const directory = directoryOf(out, variant);
    const { bytes } = await saveTrainedModel(result, directory, { command, dataSeconds });
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
