/**
 * `npm run bench`: per-method time on the real ResNet50 in Node (wasm backend), the time of one forward
 * pass, and the ratio (all methods x 3 labels, Score-CAM and Ablation-CAM excluded) / (one forward).
 * Prints JSON. Input: the golden chelsea tensor (so the numbers do not depend on image decoding).
 *
 * Options: --repeat N (forward passes timed, median reported; default 5), --scorecam-max-channels N
 * (default 128: all 2048 channels take ~15 min on 2 cores), --skip-slow (no SmoothGrad/IG/Score-CAM).
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { detectedSet } from '../src/shared/detection';
import { disposeMethodMaps, explain } from '../src/core/methods/explain';
import { METHOD_IDS, type MethodId } from '../src/shared/methods';
import { initNodeBackend } from '../src/node/backend';
import { loadClassifierFromDirectory, readFloat32 } from '../src/node/files';
import { goldenDir, resnetDir } from '../src/testing/golden';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '5' },
    'scorecam-max-channels': { type: 'string', default: '128' },
    'skip-slow': { type: 'boolean', default: false },
  },
});
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;

const backend = await initNodeBackend('wasm');
const loaded = await loadClassifierFromDirectory(resnetDir);
const adapter = loaded.adapter;
const input = tf.tensor4d(readFloat32(join(goldenDir, 'chelsea.x.f32')), [1, 224, 224, 3]);

async function timeForward(): Promise<number> {
  const started = performance.now();
  const forward = adapter.forward(input);
  await forward.logits.data();
  const ms = performance.now() - started;
  tf.dispose([forward.activations, forward.logits]);
  return ms;
}
await timeForward(); // warm-up
const forwardTimes: number[] = [];
for (let i = 0; i < Number(values.repeat); i += 1) forwardTimes.push(await timeForward());
const forwardMs = median(forwardTimes);

const forward = adapter.forward(input);
const logits = await forward.logits.data();
const labels = detectedSet({ kind: 'top-k', k: 3 }, logits, logits);
const slow: MethodId[] = ['scorecam', 'smoothgrad', 'integrated-gradients'];
const options = {
  scorecam: { variant: 'probability' as const, batchSize: 16, maxChannels: Number(values['scorecam-max-channels']) },
};

/** Wall time of one explain() call, downloads included (so asynchronous backends are fully timed). */
async function timeMethods(methods: MethodId[]): Promise<number> {
  const started = performance.now();
  const results = await explain(adapter, input, forward, { labels, methods, detected: labels, options });
  for (const result of results) await result.normalized.data();
  const ms = performance.now() - started;
  results.forEach(disposeMethodMaps);
  return ms;
}

const perMethodMs: Partial<Record<MethodId, number>> = {};
for (const method of METHOD_IDS) {
  if (values['skip-slow'] && slow.includes(method)) continue;
  perMethodMs[method] = await timeMethods([method]);
}
const ratioMethods = METHOD_IDS.filter((id) => id !== 'scorecam' && id !== 'ablationcam' && !(values['skip-slow'] && slow.includes(id)));
await timeMethods(['gradcam']); // warm the gradient kernels before the shared run
const allMs = await timeMethods(ratioMethods);
tf.dispose([input, forward.activations, forward.logits]);
adapter.dispose();

process.stdout.write(
  `${JSON.stringify(
    {
      backend,
      model: 'resnet50-imagenet (Keras, TF.js layers)',
      input: 'golden chelsea.x.f32, 1x224x224x3',
      labels,
      forwardMs: { median: forwardMs, runs: forwardTimes },
      perMethodMs,
      perMethodNote: `each method timed alone for 3 labels (its own gradients included); scorecam capped at ${values['scorecam-max-channels']} channels`,
      allMethodsMs: allMs,
      allMethods: ratioMethods,
      ratioAllMethodsToForward: allMs / forwardMs,
    },
    null,
    2,
  )}\n`,
);
