/**
 * The committed Shapes ResNeSt (models/shapes-resnest, TF.js layers with the split-attention layers) and its
 * ONNX export (models/shapes-resnest-onnx, made by torch from the same weights: `npm run train:shapes --
 * --arch resnest`) are the same classifier through the studio's two loaders: the same probabilities, the
 * same detected labels, and the same CAM, Grad-CAM and MinMax-CAM maps, on committed sample scenes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../node/backend';
import { loadClassifierFromDirectory } from '../node/files';
import { disposeMethodMaps, explain } from '../core/methods/explain';
import type { LoadedClassifier } from '../core/model/load';
import type { MethodId } from '../shared/methods';
import { maxAbsDifference, repoRoot } from '../testing/golden';
import { generateSplitScene, SHAPE_CLASSES } from '../data/shapes';

const METHODS: MethodId[] = ['cam', 'gradcam', 'minmax-cam', 'gradcampp'];

describe('Shapes ResNeSt: TF.js layers and ONNX', () => {
  let layers: LoadedClassifier;
  let onnx: LoadedClassifier;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    layers = await loadClassifierFromDirectory(join(repoRoot, 'models', 'shapes-resnest'));
    onnx = await loadClassifierFromDirectory(join(repoRoot, 'models', 'shapes-resnest-onnx'));
  });
  afterAll(() => {
    layers?.adapter.dispose();
    onnx?.adapter.dispose();
  });

  it('both are recognised as the same multi-label classifier (8x8x64 target, GAP -> Dense, sigmoid, unit preprocessing)', () => {
    expect(layers.format).toBe('tfjs-layers');
    expect(onnx.format).toBe('onnx');
    for (const loaded of [layers, onnx]) {
      expect(loaded.adapter.targetShape).toEqual([8, 8, 64]);
      expect(loaded.adapter.headKind).toBe('gap-dense');
      expect(loaded.preprocessing).toBe('unit');
      expect(loaded.labelNames).toEqual([...SHAPE_CLASSES]);
    }
    const metadata = JSON.parse(readFileSync(join(repoRoot, 'models', 'shapes-resnest', 'metadata.json'), 'utf8')) as {
      scores: { test: { macroF1: number } };
    };
    expect(metadata.scores.test.macroF1).toBeGreaterThanOrEqual(0.95);
  });

  for (const index of [0, 1, 2]) {
    it(`test scene ${index}: the same probabilities (1e-4) and maps (1e-3) through both, no tensor left`, async () => {
      const scene = generateSplitScene('test', index, { size: 64 });
      const input = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(scene.image), [1, 64, 64, 3]), 255) as tf.Tensor4D);
      const before = tf.memory().numTensors;
      const a = layers.adapter.forward(input);
      const b = onnx.adapter.forward(input);
      const pa = tf.sigmoid(a.logits);
      const pb = tf.sigmoid(b.logits);
      try {
        const probabilities = (await pa.data()) as Float32Array;
        expect(maxAbsDifference((await pb.data()) as Float32Array, probabilities)).toBeLessThan(1e-4);
        const detected = [...probabilities.keys()].filter((k) => probabilities[k]! > 0.5);
        const labels = detected.length > 0 ? detected : [0];
        const mapsA = await explain(layers.adapter, input, a, { labels, methods: METHODS });
        const mapsB = await explain(onnx.adapter, input, b, { labels, methods: METHODS });
        try {
          for (const [i, method] of METHODS.entries()) {
            const difference = maxAbsDifference(
              (await mapsB[i]!.normalized.data()) as Float32Array,
              (await mapsA[i]!.normalized.data()) as Float32Array,
            );
            expect(difference, method).toBeLessThan(1e-3);
          }
        } finally {
          [...mapsA, ...mapsB].forEach(disposeMethodMaps);
        }
      } finally {
        tf.dispose([a.activations, a.logits, b.activations, b.logits, pa, pb]);
      }
      expect(tf.memory().numTensors).toBe(before);
      input.dispose();
    });
  }
});
