import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifierAdapter } from '../core/model/adapter';
import { conv2dFilterGradient } from '../core/kernels/conv2d-backprop-filter';
import { SHAPE_CLASSES, generateScene, labelVector } from '../data/shapes';
import { initNodeBackend } from '../node/backend';
import { loadClassifierFromDirectory } from '../node/files';
import { batchOf, generateSceneSet, range } from './data';
import { conv2dFilterGradientAsConv, conv2dInputGradientAsConv, useFilterGradient, useInputGradient } from '../core/kernels/conv-gradients';
import { trainingForward } from './forward';
import { multiLabelScores } from './metrics';
import { HEAD_LAYER, POOL_LAYER, TARGET_LAYER, buildShapesResNet, kurKernel } from './shapes-model';
import { ShapesTrainer, WeightAverage, learningRateAt } from './train';

const root = resolve(import.meta.dirname, '..', '..');

beforeAll(async () => {
  await initNodeBackend('wasm');
});

afterAll(() => {
  // Leave the process's kernels as the backend module registered them.
  useFilterGradient('core');
  useInputGradient('native');
});

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

describe('buildShapesResNet', () => {
  it('has the gap-dense sigmoid head the CAM methods need, with the target layer before the pooling', () => {
    const model = buildShapesResNet({ inputSize: 32, widths: [8, 16, 32], seed: 3 });
    const adapter = new ClassifierAdapter(model);
    try {
      expect(adapter.headKind).toBe('gap-dense');
      expect(adapter.headActivation).toBe('sigmoid');
      expect(adapter.targetLayer).toBe(TARGET_LAYER);
      expect(adapter.targetShape).toEqual([4, 4, 32]); // 32 / (stem 2 * 2 * 2)
      expect(adapter.numClasses).toBe(SHAPE_CLASSES.length);
      expect(adapter.classWeights?.shape).toEqual([32, 8]);
    } finally {
      adapter.dispose();
    }
  });

  it('is deterministic given the seed', () => {
    const a = buildShapesResNet({ inputSize: 32, widths: [8, 16], seed: 5 });
    const b = buildShapesResNet({ inputSize: 32, widths: [8, 16], seed: 5 });
    const c = buildShapesResNet({ inputSize: 32, widths: [8, 16], seed: 6 });
    const weights = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(weights(a)).toEqual(weights(b));
    expect(weights(a)[0]).not.toEqual(weights(c)[0]);
    [a, b, c].forEach((model) => model.dispose());
  });
});

describe('kurKernel', () => {
  it('computes alpha * softmax_over_labels(W - max_over_labels(W)) * W on a hand-made W', () => {
    // Row [1, 2]: softmax = [1 / (1 + e), e / (1 + e)] = [0.2689414, 0.7310586].
    // Row [3, -1]: softmax = [1 / (1 + e^-4), e^-4 / (1 + e^-4)] = [0.9820138, 0.0179862].
    const w = tf.tensor2d([
      [1, 2],
      [3, -1],
    ]);
    const kur = kurKernel(w, 10);
    const expected = [10 * 0.2689414 * 1, 10 * 0.7310586 * 2, 10 * 0.9820138 * 3, 10 * 0.0179862 * -1];
    expect(maxAbs(kur.dataSync(), expected)).toBeLessThan(1e-4);
    // Large weights stay finite (the max is subtracted before the exponential).
    const big = kurKernel(tf.tensor2d([[1000, 999, -1000]]), 2);
    const values = Array.from(big.dataSync());
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values[0]).toBeCloseTo(2 * 1000 * (1 / (1 + Math.exp(-1))), 1);
    tf.dispose([w, kur, big]);
  });
});

describe('single-convolution gradients (core/kernels/conv-gradients.ts)', () => {
  const cases: Array<{ size: number; k: number; s: number; pad: 'same' | 'valid'; cin: number; cout: number }> = [
    { size: 12, k: 3, s: 1, pad: 'same', cin: 4, cout: 5 },
    { size: 12, k: 3, s: 2, pad: 'same', cin: 8, cout: 3 },
    { size: 13, k: 3, s: 2, pad: 'valid', cin: 3, cout: 4 },
    { size: 11, k: 4, s: 2, pad: 'same', cin: 2, cout: 3 },
    { size: 14, k: 5, s: 3, pad: 'valid', cin: 3, cout: 2 },
    { size: 12, k: 1, s: 2, pad: 'same', cin: 6, cout: 4 },
  ];
  it.each(cases)('match the per-tap filter gradient and the backend input gradient: %o', ({ size, k, s, pad, cin, cout }) => {
    const x = tf.randomUniform([2, size, size, cin], -1, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform([k, k, cin, cout], -1, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.conv2d(x, w, s, pad);
    const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 3) as tf.Tensor4D;
    const filterAttrs = { strides: s, pad, dataFormat: 'NHWC' as const, filterShape: w.shape };
    const reference = conv2dFilterGradient(x, dy, filterAttrs);
    const fast = conv2dFilterGradientAsConv(x, dy, filterAttrs);
    expect(maxAbs(fast.dataSync(), reference.dataSync())).toBeLessThan(1e-4);
    const inputReference = tf.conv2dTranspose(dy, w, x.shape, s, pad);
    const inputFast = conv2dInputGradientAsConv(dy, w, { strides: s, pad, dataFormat: 'NHWC', inputShape: x.shape });
    expect(maxAbs(inputFast.dataSync(), inputReference.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, w, y, dy, reference, fast, inputReference, inputFast]);
  });
});

describe('training', () => {
  it.each(['resnet', 'resnest'] as const)(
    '%s: the op-level training forward equals the layers in training mode (outputs and moving statistics)',
    (arch) => {
      const options = { inputSize: 32, widths: [8, 16], seed: 9, arch };
      const a = buildShapesResNet(options);
      const b = buildShapesResNet(options);
      const set = generateSceneSet('train', 0, 4, 32);
      const { x, y } = batchOf(set, range(0, 4));
      const viaLayers = tf.tidy(
        () =>
          tf
            .model({ inputs: a.inputs, outputs: a.getLayer(POOL_LAYER).output as tf.SymbolicTensor })
            .apply(x, { training: true }) as tf.Tensor,
      );
      const viaOps = tf.tidy(() => trainingForward(b, x, POOL_LAYER));
      expect(maxAbs(viaOps.dataSync(), viaLayers.dataSync())).toBeLessThan(1e-4);
      const stats = (model: tf.LayersModel) => Array.from(model.getLayer('stage2_block1_bn1').getWeights()[2]!.dataSync());
      expect(maxAbs(stats(b), stats(a))).toBeLessThan(1e-5);
      expect(stats(a).some((value) => value !== 0)).toBe(true); // the moving mean moved
      tf.dispose([x, y, viaLayers, viaOps]);
      a.dispose();
      b.dispose();
    },
  );

  it.each(['plain', 'kur'] as const)('%s: steps lower the loss without leaking tensors, and baking keeps the function', async (variant) => {
    useFilterGradient('conv');
    useInputGradient('conv');
    const model = buildShapesResNet({ inputSize: 32, widths: [8, 16], seed: 2 });
    const trainer = new ShapesTrainer(model, variant, 10, 1e-2, 1e-4);
    const set = generateSceneSet('train', 0, 8, 32);
    const { x, y } = batchOf(set, range(0, 8));
    const first = await trainer.step(x, y, 1e-2); // warm-up (optimizer slots are created here)
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 6; i += 1) last = await trainer.step(x, y, 1e-2);
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    // After baking, the saved network (inference mode) computes the trainer's inference logits.
    const fromTrainer = tf.tidy(() => tf.sigmoid(trainer.logits(x, false)));
    trainer.bake();
    const fromModel = model.predict(x) as tf.Tensor;
    expect(maxAbs(fromModel.dataSync(), fromTrainer.dataSync())).toBeLessThan(1e-5);
    if (variant === 'kur') {
      const baked = tf.tidy(() => kurKernel(trainer.kernel, 10));
      expect(maxAbs(model.getLayer(HEAD_LAYER).getWeights()[0]!.dataSync(), baked.dataSync())).toBeLessThan(1e-6);
      baked.dispose();
    }
    tf.dispose([x, y, fromTrainer, fromModel]);
    trainer.dispose();
    model.dispose();
  });

  it('averages weights with the warm-started decay, swaps them in and out, and leaks no tensor', () => {
    const a = tf.variable(tf.tensor1d([0, 10]));
    const b = tf.variable(tf.scalar(4));
    const before = tf.memory().numTensors;
    const average = new WeightAverage([a, b], 0.5);
    expect(tf.memory().numTensors).toBe(before + 2);
    const set = (values: number[]) => tf.tidy(() => a.assign(tf.tensor1d(values)));
    set([2, 20]);
    average.update(); // decay min(0.5, 1/10) = 0.1: 0.1 * [0, 10] + 0.9 * [2, 20] = [1.8, 19]
    set([4, 40]);
    average.update(); // decay min(0.5, 2/11): 2/11 * [1.8, 19] + 9/11 * [4, 40]
    const expected = [(2 / 11) * 1.8 + (9 / 11) * 4, (2 / 11) * 19 + (9 / 11) * 40];
    const restore = average.swapIn();
    expect(maxAbs(a.dataSync(), expected)).toBeLessThan(1e-5);
    expect(b.dataSync()[0]).toBeCloseTo(4, 6);
    restore();
    expect(Array.from(a.dataSync())).toEqual([4, 40]);
    average.apply();
    expect(maxAbs(a.dataSync(), expected)).toBeLessThan(1e-5);
    average.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('warms up linearly and decays by a cosine to the floor', () => {
    const config = { learningRate: 1e-3, warmupSteps: 10, maxSteps: 110, finalLearningRateFraction: 0.1 };
    expect(learningRateAt(0, config)).toBeCloseTo(1e-4, 10);
    expect(learningRateAt(9, config)).toBeCloseTo(1e-3, 10);
    expect(learningRateAt(60, config)).toBeCloseTo(0.55e-3, 10);
    expect(learningRateAt(110, config)).toBeCloseTo(1e-4, 10);
  });
});

describe('multiLabelScores', () => {
  it('counts per class at the threshold', () => {
    // 3 scenes, 2 classes. Class 0: tp 1, fp 1, fn 1 -> F1 0.5. Class 1: tp 2 -> F1 1.
    const probabilities = new Float32Array([0.9, 0.8, 0.7, 0.6, 0.1, 0.2]);
    const labels = new Float32Array([1, 1, 0, 1, 1, 0]);
    const scores = multiLabelScores(probabilities, labels, ['a', 'b']);
    expect(scores.perClass.map((score) => score.f1)).toEqual([0.5, 1]);
    expect(scores.perClass[0]).toMatchObject({ precision: 0.5, recall: 0.5, support: 2 });
    expect(scores.macroF1).toBe(0.75);
    expect(scores.exactMatch).toBeCloseTo(1 / 3, 4);
  });
});

interface SampleEntry {
  labels: string[];
  seed: number;
}

describe.each([
  ['plain', 'shapes-resnet'],
  ['kur', 'shapes-resnet-kur'],
] as const)('trained model %s (models/%s)', (variant, folder) => {
  const directory = join(root, 'models', folder);
  const present = existsSync(join(directory, 'model.json')) && existsSync(join(directory, 'metadata.json'));
  const why = present ? '' : ` (cannot run: models/${folder} is not trained yet; run \`npm run train:shapes\`)`;
  it.skipIf(!present)(`loads as a gap-dense sigmoid classifier and recognises the sample scenes${why}`, async () => {
    const metadata = JSON.parse(readFileSync(join(directory, 'metadata.json'), 'utf8')) as {
      labels: string[];
      head: { kind: string; alpha?: number; rawKernel?: number[][] };
      scores: { test: { macroF1: number } };
      training: { data: { size: number } };
    };
    expect(metadata.head.kind).toBe(variant);
    const loaded = await loadClassifierFromDirectory(directory);
    try {
      const adapter = loaded.adapter as ClassifierAdapter;
      expect(adapter.headKind).toBe('gap-dense');
      expect(adapter.headActivation).toBe('sigmoid');
      expect(adapter.targetLayer).toBe(TARGET_LAYER);
      expect(loaded.labelNames).toEqual([...SHAPE_CLASSES]);
      expect(loaded.preprocessing).toBe('unit');
      if (variant === 'kur') {
        // The saved Dense kernel is W~ of the recorded raw W.
        const raw = tf.tensor2d(metadata.head.rawKernel as number[][]);
        const baked = kurKernel(raw, metadata.head.alpha as number);
        expect(maxAbs((adapter.classWeights as tf.Tensor2D).dataSync(), baked.dataSync())).toBeLessThan(1e-5);
        tf.dispose([raw, baked]);
      }
      // The committed samples (public/samples/shapes/index.json) regenerated from their seeds: same pixels.
      const samples = JSON.parse(readFileSync(join(root, 'public', 'samples', 'shapes', 'index.json'), 'utf8')) as SampleEntry[];
      const size = adapter.inputShape[0];
      expect(size).toBe(metadata.training.data.size);
      const pixels = new Float32Array(samples.length * size * size * 3);
      const labels = new Float32Array(samples.length * SHAPE_CLASSES.length);
      samples.forEach((sample, i) => {
        const scene = generateScene(sample.seed, { size });
        scene.image.forEach((value, p) => {
          pixels[i * size * size * 3 + p] = value / 255;
        });
        expect(scene.labels.map((k) => SHAPE_CLASSES[k])).toEqual(sample.labels);
        labels.set(labelVector(scene.labels), i * SHAPE_CLASSES.length);
      });
      const input = tf.tensor4d(pixels, [samples.length, size, size, 3]);
      const { activations, logits } = adapter.forward(input);
      const probabilities = adapter.probabilities(logits);
      const scores = multiLabelScores(probabilities.dataSync() as Float32Array, labels, [...SHAPE_CLASSES]);
      tf.dispose([input, activations, logits, probabilities]);
      expect(scores.macroF1).toBeGreaterThanOrEqual(metadata.scores.test.macroF1 - 0.1);
    } finally {
      loaded.adapter.dispose();
    }
  });
  it.skipIf(!present)(
    `runs in npm run explain on a committed sample scene (CAM and MinMax-CAM for the detected labels)${why}`,
    async () => {
      const samples = JSON.parse(readFileSync(join(root, 'public', 'samples', 'shapes', 'index.json'), 'utf8')) as Array<
        SampleEntry & { file: string }
      >;
      const scene = samples.find((sample) => sample.labels.length >= 2)!;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
          join(root, 'src', 'cli', 'explain.ts'),
          '--model',
          directory,
          '--image',
          join(root, 'public', 'samples', 'shapes', scene.file),
          '--methods',
          'cam,minmax-cam',
        ],
        { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      );
      const output = JSON.parse(stdout) as {
        backend: string;
        detected: number[];
        detectionRule: string;
        maps: Record<string, Record<string, { shape: number[]; data: number[] }>>;
      };
      expect(output.backend).toBe('wasm');
      expect(output.detectionRule).toMatch(/sigmoid/);
      expect(output.detected.length).toBeGreaterThan(0);
      for (const method of ['cam', 'minmax-cam']) {
        expect(Object.keys(output.maps[method]!).map(Number).sort()).toEqual([...output.detected].sort());
        for (const map of Object.values(output.maps[method]!)) expect(map.data.every((v) => v >= 0 && v <= 1)).toBe(true);
      }
    },
    120_000,
  );
});
