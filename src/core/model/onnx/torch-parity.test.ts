/**
 * ONNX models made by torch (scripts/onnx/make-fixtures.py: a small ResNeSt with split attention, radix 2,
 * cardinality 2, avg-down and avd; a tiny ResNeXt with grouped convolutions; a tiny MobileNet with depthwise
 * convolutions, ReLU6, hard-swish and squeeze-excitation) give torch's logits (within 1e-4 of their range) and
 * torch's CAM and Grad-CAM at the last block (within 1e-3, normalised), through the same pipeline as every
 * model; any batch size works, input gradients flow through the graph, and nothing leaks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../../node/backend';
import { loadClassifierFromDirectory, readFloat32 } from '../../../node/files';
import { maxAbsDifference } from '../../../testing/golden';
import { explain, disposeMethodMaps } from '../../methods/explain';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', '..', 'e2e', 'fixtures', 'onnx');

interface Reference {
  label: number;
  mapShape: [number, number];
  logits: number[];
  cam: number[];
  gradcam: number[];
}

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe.each(['small-resnest', 'tiny-resnext', 'tiny-mobilenet'])('the torch-made ONNX model %s', (name) => {
  it("gives torch's logits, CAM and Grad-CAM; batches; input gradients; no leak", async () => {
    const directory = join(FIXTURES, name);
    const reference = JSON.parse(readFileSync(join(directory, 'reference.json'), 'utf8')) as Reference;
    const loaded = await loadClassifierFromDirectory(directory);
    const adapter = loaded.adapter;
    try {
      expect(loaded.preprocessing).toBe('unit');
      expect(adapter.targetShape.slice(0, 2)).toEqual(reference.mapShape);
      expect(adapter.headKind).toBe('gap-dense');
      const [height, width, channels] = adapter.inputShape;
      const input = tf.tensor4d(readFloat32(join(directory, 'input.f32')), [1, height, width, channels]);
      const before = tf.memory().numTensors;
      const forward = adapter.forward(input);
      const logits = Array.from(await forward.logits.data());
      const range = Math.max(...reference.logits) - Math.min(...reference.logits);
      expect(maxAbsDifference(logits, reference.logits) / range).toBeLessThan(1e-4);
      const maps = await explain(adapter, input, forward, { labels: [reference.label], methods: ['cam', 'gradcam', 'saliency'] });
      try {
        expect(maxAbsDifference((await maps[0]!.normalized.data()) as Float32Array, reference.cam)).toBeLessThan(1e-3);
        expect(maxAbsDifference((await maps[1]!.normalized.data()) as Float32Array, reference.gradcam)).toBeLessThan(1e-3);
        expect(maps[2]!.normalized.shape).toEqual([1, height, width]);
        expect(Math.max(...(await maps[2]!.raw.data()))).toBeGreaterThan(0);
      } finally {
        maps.forEach(disposeMethodMaps);
      }
      // Three copies in one batch: three equal rows (the graph's shape arithmetic follows the batch).
      const batch = tf.concat([input, input, input]) as tf.Tensor4D;
      const batched = adapter.logitsOf(batch);
      const rows = (await batched.data()) as Float32Array;
      expect(maxAbsDifference(rows.subarray(2 * adapter.numClasses), logits)).toBeLessThan(1e-5);
      tf.dispose([batch, batched, forward.activations, forward.logits]);
      expect(tf.memory().numTensors).toBe(before);
      input.dispose();
    } finally {
      adapter.dispose();
    }
  }, 120_000);
});
