/**
 * The real ResNet50 through ONNX (the Keras weights rebuilt in PyTorch and exported by
 * scripts/onnx/export-resnet50.py, as a PyTorch user exports a model) gives the same answers as through
 * TF.js layers: the same top-5, logits within 1e-4 of their range, and every method of
 * ../shared/golden/resnet50-imagenet within 1e-3 of pytorch-grad-cam's maps.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../../node/backend';
import { loadClassifierFromDirectory } from '../../../node/files';
import { topK } from '../../../shared/predictions';
import type { MethodId } from '../../../shared/methods';
import { goldenFile, goldenImages, maxAbsDifference, realModelMissing, repoRoot, resnetDir } from '../../../testing/golden';
import { disposeMethodMaps, explain } from '../../methods/explain';
import type { LoadedClassifier } from '../load';

const onnxDir = join(repoRoot, 'models', 'resnet50-imagenet-onnx');
const REFERENCES: Array<[MethodId, string]> = [
  ['gradcam', 'GradCAM'],
  ['cam', 'GradCAM'],
  ['hirescam', 'HiResCAM'],
  ['gradcam-elementwise', 'GradCAMElementWise'],
  ['gradcampp', 'GradCAMPlusPlus'],
  ['xgradcam', 'XGradCAM'],
  ['layercam', 'LayerCAM'],
  ['eigencam', 'EigenCAM'],
  ['eigengradcam', 'EigenGradCAM'],
];

const missing =
  realModelMissing() ??
  (existsSync(join(onnxDir, 'model.onnx'))
    ? null
    : 'models/resnet50-imagenet-onnx is missing: /usr/bin/python3 scripts/onnx/export-resnet50.py (npm test runs it when python3-torch is installed)');
if (missing !== null && process.env['CI']) throw new Error(`CI must run the ONNX ResNet50 parity: ${missing}`);

describe.skipIf(missing !== null)(`ResNet50 through ONNX${missing === null ? '' : ` (cannot run: ${missing})`}`, () => {
  let onnx: LoadedClassifier;
  let layers: LoadedClassifier;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    onnx = await loadClassifierFromDirectory(onnxDir);
    layers = await loadClassifierFromDirectory(resnetDir);
  });
  afterAll(() => {
    onnx?.adapter.dispose();
    layers?.adapter.dispose();
  });

  it('is recognised as the same classifier: 7x7x2048 target, GAP -> Dense head, caffe preprocessing, labels', () => {
    expect(onnx.adapter.targetShape).toEqual([7, 7, 2048]);
    expect(onnx.adapter.headKind).toBe('gap-dense');
    expect(onnx.preprocessing).toBe('caffe');
    expect(onnx.labelNames[285]).toBe('Egyptian_cat');
  });

  for (const image of goldenImages()) {
    it(`${image.name}: the same top-5 and logits as TF.js, every golden map within 1e-3`, async () => {
      const input = tf.tensor4d(goldenFile(`${image.name}.x.f32`), [1, 224, 224, 3]);
      const before = tf.memory().numTensors;
      const forward = onnx.adapter.forward(input);
      const reference = layers.adapter.forward(input);
      try {
        const logits = (await forward.logits.data()) as Float32Array;
        const expected = (await reference.logits.data()) as Float32Array;
        const range = Math.max(...expected) - Math.min(...expected);
        expect(maxAbsDifference(logits, expected) / range).toBeLessThan(1e-4);
        const probs = tf.softmax(forward.logits);
        expect(topK(await probs.data(), logits, 5).map((ranked) => ranked.label)).toEqual(image.top5);
        probs.dispose();
        const maps = await explain(onnx.adapter, input, forward, { labels: [image.label], methods: REFERENCES.map(([id]) => id) });
        try {
          for (const [i, [id, file]] of REFERENCES.entries()) {
            const ours = (await maps[i]!.normalized.data()) as Float32Array;
            expect(maxAbsDifference(ours, goldenFile(`${image.name}.${file}.${image.label}.f32`)), id).toBeLessThan(1e-3);
          }
        } finally {
          maps.forEach(disposeMethodMaps);
        }
      } finally {
        tf.dispose([input, forward.activations, forward.logits, reference.activations, reference.logits]);
      }
      expect(tf.memory().numTensors).toBe(before - 1);
    }, 180_000);
  }
});
