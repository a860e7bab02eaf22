/**
 * Trains a shapes network with PyTorch doing the optimisation (scripts/onnx/shapes_resnest.py `train`), for
 * the split-attention network, whose training step costs 1.58 s in TF.js on wasm against 0.17 s in torch on
 * one thread (the module comment of that script). Everything else is this project's: the scenes (the same
 * generated sets as train.ts), the initial weights (buildShapesResNet with the config's seed), the epoch
 * order (train.ts's permutations), the learning-rate schedule, the loss and the penalty (re-implemented in
 * the script from train.ts), and the scoring of the trained TF.js model (metrics.ts, inference mode).
 * Node-only (a child process, temporary files).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { NUM_SHAPE_CLASSES, SHAPE_CLASSES } from '../data/shapes';
import { buildLayersModel } from '../core/model/artifacts';
import { layersModelFiles } from '../node/files';
import { batchOf, range, type SceneSet } from './data';
import { multiLabelScores } from './metrics';
import { HEAD_LAYER, buildShapesResNet } from './shapes-model';
import {
  jsonLinesLogger,
  permutation,
  resolveTrainConfig,
  type DataSets,
  type Logger,
  type TrainConfig,
  type TrainingResult,
} from './train';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/onnx/shapes_resnest.py');
/** Debian's python with torch (python3-torch); `python3` on PATH may be another one. */
export const TORCH_PYTHON = process.env['CAM_STUDIO_TORCH_PYTHON'] ?? '/usr/bin/python3';

/** Sigmoid probabilities `[N * 8]` of a scene set through the model (inference mode), in batches. */
async function probabilitiesOf(model: tf.LayersModel, set: SceneSet, batchSize = 100): Promise<Float32Array> {
  const out = new Float32Array(set.count * NUM_SHAPE_CLASSES);
  for (let start = 0; start < set.count; start += batchSize) {
    const { x, y } = batchOf(set, range(start, Math.min(set.count, start + batchSize)));
    const probabilities = tf.tidy(() => model.predict(x) as tf.Tensor2D);
    try {
      out.set(await probabilities.data(), start * NUM_SHAPE_CLASSES);
    } finally {
      tf.dispose([x, y, probabilities]);
    }
  }
  return out;
}

/** Runs the script; resolves with its JSON lines (each also passed to `log`). */
function runTorch(args: string[], log: Logger, threads: number): Promise<Record<string, unknown>[]> {
  return new Promise((done, fail) => {
    const child = spawn(TORCH_PYTHON, [script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SHAPES_TORCH_THREADS: String(threads) },
    });
    const lines: Record<string, unknown>[] = [];
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) {
        if (part.trim() === '') continue;
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        log({ ...line, trainer: 'torch' });
      }
    });
    child.on('error', (error) => fail(new Error(`could not run ${TORCH_PYTHON} (Debian's python3-torch is needed): ${error.message}`)));
    child.on('exit', (code) => (code === 0 ? done(lines) : fail(new Error(`${script} train exited with ${code}`))));
  });
}

/**
 * train.ts's trainShapesModel with the optimisation in torch (see the module comment). No early stop on
 * validation F1 and no weight average: the run is the full `maxSteps`.
 */
export async function trainShapesModelInTorch(
  partial: Partial<TrainConfig>,
  data: DataSets,
  options: { threads?: number } = {},
  log: Logger = jsonLinesLogger,
): Promise<TrainingResult> {
  const config = resolveTrainConfig(partial);
  if (config.variant !== 'plain' || config.freshTrainScenes || config.emaDecay > 0)
    throw new Error('the torch trainer trains the plain head on a fixed scene set, without a weight average');
  const initial = buildShapesResNet(config.model);
  const work = mkdtempSync(join(tmpdir(), 'shapes-torch-'));
  try {
    const { modelJson, weights } = await layersModelFiles(initial, 'cam-studio src/train (npm run train:shapes, torch trainer)');
    writeFileSync(join(work, 'model.json'), modelJson);
    writeFileSync(join(work, 'weights.bin'), new Uint8Array(weights));
    const stepsPerEpoch = Math.floor(data.train.count / config.batchSize);
    const epochs = Math.ceil(config.maxSteps / stepsPerEpoch);
    const orders = new Int32Array(epochs * data.train.count);
    for (let epoch = 0; epoch < epochs; epoch += 1)
      orders.set(permutation(data.train.count, config.dataSeed + epoch), epoch * data.train.count);
    writeFileSync(join(work, 'order.i32'), new Uint8Array(orders.buffer));
    writeFileSync(join(work, 'train.u8'), data.train.images);
    writeFileSync(
      join(work, 'train.labels.f32'),
      new Uint8Array(data.train.labels.buffer, data.train.labels.byteOffset, data.train.labels.byteLength),
    );
    writeFileSync(join(work, 'config.json'), JSON.stringify({ ...config, trainScenes: data.train.count }));
    log({ event: 'start', variant: config.variant, trainer: 'torch', parameters: initial.countParams(), config });
    const lines = await runTorch(['train', work, work, join(work, 'trained.bin')], log, options.threads ?? 1);
    const trained = lines.find((line) => line['event'] === 'trained') ?? {};

    const parsed = JSON.parse(modelJson) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
    const model = await buildLayersModel({
      modelTopology: parsed.modelTopology,
      weightSpecs: parsed.weightsManifest.flatMap((group) => group.weights),
      weightData: new Uint8Array(readFileSync(join(work, 'trained.bin'))).buffer,
    });
    const labelNames = [...SHAPE_CLASSES];
    const validation = multiLabelScores(
      await probabilitiesOf(model, data.validation),
      data.validation.labels,
      labelNames,
      config.threshold,
    );
    const test = multiLabelScores(await probabilitiesOf(model, data.test), data.test.labels, labelNames, config.threshold);
    const effective = (await (model.getLayer(HEAD_LAYER).getWeights()[0] as tf.Tensor2D).array()) as number[][];
    const trainSeconds = Number(trained['seconds'] ?? 0);
    const meanStepMs = Number(trained['meanStepMs'] ?? 0);
    log({
      event: 'done',
      variant: config.variant,
      trainer: 'torch',
      steps: config.maxSteps,
      trainSeconds,
      meanStepMs,
      validationMacroF1: validation.macroF1,
      testMacroF1: test.macroF1,
    });
    const losses = lines.filter((line) => line['event'] === 'step');
    return {
      model,
      config,
      steps: config.maxSteps,
      epochs: Math.round((config.maxSteps / stepsPerEpoch) * 100) / 100,
      stoppedBecause: 'max-steps',
      trainSeconds,
      meanStepMs,
      backend: `torch ${String(trained['torch'] ?? '')} (cpu, ${String(trained['threads'] ?? '?')} thread(s)); scored on TF.js ${tf.getBackend()}`,
      profile: [],
      validation,
      test,
      history: [
        {
          step: config.maxSteps,
          epoch: epochs - 1,
          loss: Number(losses.at(-1)?.['loss'] ?? NaN),
          validationMacroF1: validation.macroF1,
          seconds: trainSeconds,
        },
      ],
      finalKernel: { effective },
      trainer: { program: 'scripts/onnx/shapes_resnest.py train', ...trained, lossLog: losses.map(({ step, loss }) => ({ step, loss })) },
    };
  } finally {
    initial.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}
