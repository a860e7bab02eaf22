#!/usr/bin/env -S npx tsx
// `npm run study:shapes`: localisation of every method of the library on the bundled shapes models, against
// the generator's ground-truth masks (issue #4). Per model and method:
//   - pointing game per class (tolerance scaled from the usual 15 px on ~500-px VOC images: 3 px at 96 px);
//   - segmentation priors (maps of the ground-truth classes, background below a threshold) scored by mIoU;
//     the threshold is chosen per method on validation scenes, then applied to the test scenes;
//   - on test scenes with two or more labels: the fraction of each label's map mass that falls on the
//     *other* objects (the bleeding MinMax-CAM is meant to reduce), with paired differences against CAM.
// The detected set C_x (used by the MinMax methods) is the model's own: sigmoid(S) > 0.5.
// Prints JSON lines of progress, writes the full JSON (--out) and prints the README's markdown tables.
//
// Options: --models DIR,DIR (default models/shapes-resnet,models/shapes-resnet-kur) --scenes N (test, default
// 500) --validation-scenes N (default 100) --methods LIST|all --out FILE.json
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { SHAPE_CLASSES, generateSplitScene, type Split } from '../src/data/shapes/index.ts';
import { detectedSet, defaultDetectionRule } from '../src/shared/detection.ts';
import { disposeMethodMaps, explain } from '../src/core/methods/explain.ts';
import { METHOD_IDS, isMethodId, type MethodId } from '../src/shared/methods.ts';
import { getMethod } from '../src/core/methods/registry.ts';
import { methodAvailability } from '../src/core/methods/types.ts';
import { upsampleMaps } from '../src/core/maps/filters.ts';
import { LocalisationAccumulator, type LocalisationResult } from '../src/shared/metrics/localisation.ts';
import { preprocess } from '../src/core/preprocess.ts';
import { initNodeBackend } from '../src/node/backend.ts';
import { loadClassifierFromDirectory } from '../src/node/files.ts';
import { useFilterGradient, useInputGradient } from '../src/core/kernels/conv-gradients.ts';

const THRESHOLDS = Array.from({ length: 19 }, (_, i) => Math.round((0.05 + 0.05 * i) * 100) / 100);

interface MethodScores {
  /** Test-split scores (segmentation at the threshold chosen on validation). */
  test: LocalisationResult;
  chosenThreshold: number;
  validationMeanIou: number;
  meanMs: number;
}

async function scoreSplit(
  modelDir: string,
  split: Split,
  count: number,
  methods: readonly MethodId[],
  tolerance: number,
  log: (line: Record<string, unknown>) => void,
): Promise<{ results: Map<MethodId, LocalisationResult>; ms: Map<MethodId, number>; detectionAgreement: number }> {
  const loaded = await loadClassifierFromDirectory(modelDir);
  const adapter = loaded.adapter;
  const [height, width] = adapter.inputShape;
  const accumulators = new Map(
    methods.map((id) => [id, new LocalisationAccumulator({ numClasses: SHAPE_CLASSES.length, tolerance, thresholds: THRESHOLDS })]),
  );
  const ms = new Map<MethodId, number>(methods.map((id) => [id, 0]));
  const rule = defaultDetectionRule(adapter.headActivation);
  let exact = 0;
  const started = performance.now();
  try {
    for (let index = 0; index < count; index += 1) {
      const scene = generateSplitScene(split, index, { size: height });
      const pixels = tf.tensor4d(scene.image, [1, height, width, 3], 'int32');
      const input = preprocess(pixels, loaded.preprocessing, 3);
      pixels.dispose();
      const forward = adapter.forward(input);
      const probabilities = adapter.probabilities(forward.logits);
      const detected = detectedSet(rule, await probabilities.data(), await forward.logits.data());
      probabilities.dispose();
      if ([...detected].sort((a, b) => a - b).join() === scene.labels.join()) exact += 1;
      const results = scene.labels.length === 0 ? [] : await explain(adapter, input, forward, { labels: scene.labels, methods, detected });
      try {
        for (const result of results) {
          const full = result.normalized.shape[1] === height ? null : upsampleMaps(result.normalized, [height, width]);
          const data = await (full ?? result.normalized).data();
          full?.dispose();
          const maps = scene.labels.map((_, i) => data.subarray(i * height * width, (i + 1) * height * width));
          accumulators.get(result.method)!.add(maps, scene.labels, { width, height, data: scene.mask });
          ms.set(result.method, ms.get(result.method)! + result.ms);
        }
      } finally {
        results.forEach(disposeMethodMaps);
        tf.dispose([input, forward.activations, forward.logits]);
      }
      if ((index + 1) % 25 === 0 || index + 1 === count) {
        log({
          event: 'progress',
          model: modelDir,
          split,
          done: index + 1,
          of: count,
          seconds: Math.round((performance.now() - started) / 100) / 10,
          tensors: tf.memory().numTensors,
        });
      }
    }
  } finally {
    adapter.dispose();
  }
  for (const id of methods) ms.set(id, ms.get(id)! / Math.max(1, count));
  return {
    results: new Map([...accumulators].map(([id, accumulator]) => [id, accumulator.result()])),
    ms,
    detectionAgreement: exact / Math.max(1, count),
  };
}

const pct = (value: number | null): string => (value === null || Number.isNaN(value) ? '–' : (100 * value).toFixed(1));

/** Mean and standard error of paired differences. */
function pairedDifference(a: number[], b: number[]): { mean: number; standardError: number } {
  const differences = a.map((value, i) => value - b[i]!);
  const n = differences.length;
  const mean = differences.reduce((x, y) => x + y, 0) / n;
  const variance = differences.reduce((sum, d) => sum + (d - mean) ** 2, 0) / Math.max(1, n - 1);
  return { mean, standardError: Math.sqrt(variance / n) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: 'models/shapes-resnet,models/shapes-resnet-kur' },
      scenes: { type: 'string', default: '500' },
      'validation-scenes': { type: 'string', default: '100' },
      methods: { type: 'string', default: 'all' },
      out: { type: 'string' },
    },
  });
  await initNodeBackend('wasm');
  // The same gradients, computed faster (one convolution per gradient; tested against the cpu backend in
  // src/train/shapes-model.test.ts): the input-gradient methods (SmoothGrad, IG) dominate this script's time.
  useFilterGradient('conv');
  useInputGradient('conv');
  const log = (line: Record<string, unknown>): void => console.error(JSON.stringify(line));
  const report: Record<string, unknown> = {
    thresholds: THRESHOLDS,
    scenes: Number(values.scenes),
    validationScenes: Number(values['validation-scenes']),
    models: {},
  };
  const markdown: string[] = [];
  for (const modelDir of values.models.split(',')) {
    const probe = await loadClassifierFromDirectory(modelDir);
    const available = METHOD_IDS.filter((id) => methodAvailability(getMethod(id), probe.adapter).available);
    const size = probe.adapter.inputShape[0];
    probe.adapter.dispose();
    const requested = values.methods === 'all' ? available : values.methods.split(',').filter(isMethodId);
    const tolerance = Math.max(1, Math.round((15 * size) / 500));
    const validation = await scoreSplit(modelDir, 'validation', Number(values['validation-scenes']), requested, tolerance, log);
    const test = await scoreSplit(modelDir, 'test', Number(values.scenes), requested, tolerance, log);
    const methods: Record<string, MethodScores> = {};
    for (const id of requested) {
      const byThreshold = validation.results.get(id)!.segmentation;
      const best = byThreshold.reduce((a, b) => (b.meanIou > a.meanIou ? b : a));
      const testResult = test.results.get(id)!;
      methods[id] = {
        test: { ...testResult, segmentation: testResult.segmentation.filter((entry) => entry.threshold === best.threshold) },
        chosenThreshold: best.threshold,
        validationMeanIou: best.meanIou,
        meanMs: Math.round(test.ms.get(id)! * 10) / 10,
      };
    }
    (report.models as Record<string, unknown>)[modelDir] = {
      tolerancePx: tolerance,
      inputSize: size,
      exactDetection: test.detectionAgreement,
      methods,
    };

    markdown.push(`\n### ${modelDir} (${values.scenes} test scenes, pointing tolerance ${tolerance} px)\n`);
    markdown.push(
      `| method | pointing game (mean over classes) | ${SHAPE_CLASSES.map((name) => `PG ${name}`).join(' | ')} | mIoU (bg threshold) | ${SHAPE_CLASSES.map((name) => `IoU ${name}`).join(' | ')} |`,
    );
    markdown.push(`|---|---|${SHAPE_CLASSES.map(() => '---').join('|')}|---|${SHAPE_CLASSES.map(() => '---').join('|')}|`);
    for (const id of requested) {
      const scores = methods[id]!;
      const segmentation = scores.test.segmentation[0]!;
      markdown.push(
        `| ${id} | ${pct(scores.test.pointing.meanPerClass)} | ${scores.test.pointing.perClass.map(pct).join(' | ')} | ${pct(segmentation.meanIou)} (${scores.chosenThreshold}) | ${segmentation.perClassIou.slice(1).map(pct).join(' | ')} |`,
      );
    }
    const reference = methods.cam?.test.overlap.othersPerLabel;
    markdown.push(
      `\nMap mass on the other objects (scenes with >= 2 labels, ${methods.cam?.test.overlap.count ?? 0} labels), paired difference against CAM:\n`,
    );
    markdown.push('| method | mass on other objects % | on own objects % | on background % | minus CAM (pp, ± s.e.) |');
    markdown.push('|---|---|---|---|---|');
    for (const id of requested) {
      const overlap = methods[id]!.test.overlap;
      const difference = reference === undefined || id === 'cam' ? null : pairedDifference(overlap.othersPerLabel, reference);
      markdown.push(
        `| ${id} | ${pct(overlap.others)} | ${pct(overlap.own)} | ${pct(overlap.background)} | ${difference === null ? '–' : `${(100 * difference.mean).toFixed(2)} ± ${(100 * difference.standardError).toFixed(2)}`} |`,
      );
    }
  }
  const text = `${JSON.stringify(report)}\n`;
  if (values.out !== undefined) writeFileSync(values.out, text);
  console.log(markdown.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
