/**
 * A TF.js graph model with grouped convolutions, as the converter writes a Keras Conv2D(groups=g)
 * (e2e/fixtures/tiny-graph-grouped, scripts/make-graph-model.mjs: a _FusedConv2D with 2 groups + BiasAdd +
 * Relu, a Conv2D with 4 groups): it loads, gives the logits of the same network written with ungrouped
 * block-diagonal filters (computed here with plain TF.js ops, an independent formulation), CAM finds its
 * GAP -> dense head, gradients flow, and nothing leaks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { loadClassifierFromDirectory } from '../../node/files';
import { maxAbsDifference, repoRoot } from '../../testing/golden';
import { disposeMethodMaps, explain } from '../methods/explain';

const DIR = join(repoRoot, 'e2e', 'fixtures', 'tiny-graph-grouped');

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/** The fixture's weights by name, from model.json's manifest and weights.bin. */
function readWeights(): Map<string, { shape: number[]; values: Float32Array }> {
  const modelJson = JSON.parse(readFileSync(join(DIR, 'model.json'), 'utf8')) as {
    weightsManifest: Array<{ weights: Array<{ name: string; shape: number[]; dtype: string }> }>;
  };
  const bytes = readFileSync(join(DIR, 'weights.bin'));
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const spec of modelJson.weightsManifest[0]!.weights) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + count * 4));
    weights.set(spec.name, { shape: spec.shape, values });
    offset += count * 4;
  }
  return weights;
}

/** A grouped filter [kh, kw, p, O] as the ungrouped [kh, kw, p * g, O] filter with zeros off its diagonal blocks. */
function blockDiagonal({ shape, values }: { shape: number[]; values: Float32Array }, groups: number): tf.Tensor4D {
  const [kh, kw, p, o] = shape as [number, number, number, number];
  const q = o / groups;
  const full = new Float32Array(kh * kw * p * groups * o);
  for (let tap = 0; tap < kh * kw; tap += 1)
    for (let c = 0; c < p; c += 1)
      for (let k = 0; k < o; k += 1) {
        const g = Math.floor(k / q);
        full[(tap * p * groups + g * p + c) * o + k] = values[(tap * p + c) * o + k]!;
      }
  return tf.tensor4d(full, [kh, kw, p * groups, o]);
}

describe('TF.js graph models with grouped convolutions', () => {
  it('load and give the block-diagonal network’s logits; CAM and Grad-CAM run; no leak', async () => {
    const loaded = await loadClassifierFromDirectory(DIR);
    const adapter = loaded.adapter;
    const weights = readWeights();
    const input = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
    try {
      expect(loaded.format).toBe('tfjs-graph');
      expect(adapter.targetLayer).toBe('target');
      expect(adapter.headKind).toBe('gap-dense');
      const expected = tf.tidy(() => {
        const w = (name: string): tf.Tensor => tf.tensor(weights.get(name)!.values, weights.get(name)!.shape);
        const features = tf.relu(tf.add(tf.conv2d(input, w('conv1/filter') as tf.Tensor4D, 1, 'same'), w('conv1/bias')));
        const grouped1 = tf.relu(
          tf.add(tf.conv2d(features as tf.Tensor4D, blockDiagonal(weights.get('grouped1/filter')!, 2), 1, 'same'), w('grouped1/bias')),
        );
        const target = tf.relu(
          tf.add(tf.conv2d(grouped1 as tf.Tensor4D, blockDiagonal(weights.get('grouped2/filter')!, 4), 1, 'same'), w('grouped2/bias')),
        );
        return tf.add(tf.matMul(tf.mean(target, [1, 2]), w('dense/kernel') as tf.Tensor2D), w('dense/bias'));
      });
      const before = tf.memory().numTensors;
      const logits = adapter.logitsOf(input);
      const difference = maxAbsDifference((await logits.data()) as Float32Array, (await expected.data()) as Float32Array);
      expect(difference).toBeLessThan(1e-5);
      logits.dispose();
      const single = tf.slice(input, [0, 0, 0, 0], [1, 16, 16, 3]);
      const forward = adapter.forward(single);
      const maps = await explain(adapter, single, forward, { labels: [1], methods: ['cam', 'gradcam', 'saliency'] });
      try {
        expect(maps[0]!.raw.shape).toEqual([1, 16, 16]);
        expect(
          maxAbsDifference((await maps[0]!.normalized.data()) as Float32Array, (await maps[1]!.normalized.data()) as Float32Array),
        ).toBeLessThan(1e-4);
        expect(Math.max(...(await maps[2]!.raw.data()))).toBeGreaterThan(0);
      } finally {
        maps.forEach(disposeMethodMaps);
      }
      tf.dispose([single, forward.activations, forward.logits]);
      expect(tf.memory().numTensors).toBe(before);
      expected.dispose();
    } finally {
      input.dispose();
      adapter.dispose();
    }
  });
});
