/**
 * Parity with pytorch-grad-cam 1.5.5 on the real Keras ResNet50 (../shared/golden/resnet50-imagenet):
 * fed the exact input tensors, our maps must match the references within 1e-3 (normalised 7x7 maps).
 * The references target the class LOGIT and normalise as (m - min) / (max - min + 1e-7).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { loadClassifierFromDirectory } from '../../node/files';
import { goldenFile, goldenImages, maxAbsDifference, realModelMissing, resnetDir } from '../../testing/golden';
import type { LoadedClassifier } from '../model/load';
import { topK } from '../../shared/predictions';
import { disposeMethodMaps, explain } from './explain';
import type { MethodId } from '../../shared/methods';

/** pytorch-grad-cam class name -> our method id. CAM has no reference of its own: on a GAP -> Dense head it
 * equals Grad-CAM up to the factor 1/(h w), so after normalisation it must match the GradCAM reference. */
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

const missing = realModelMissing();
if (missing !== null && process.env['CI']) throw new Error(`CI must run the golden tests: ${missing}`);

describe.skipIf(missing !== null)(`ResNet50 golden parity${missing === null ? '' : ` (cannot run: ${missing})`}`, () => {
  let loaded: LoadedClassifier;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    loaded = await loadClassifierFromDirectory(resnetDir);
  });
  afterAll(() => loaded?.adapter.dispose());

  it('finds the target layer, the fused softmax and the GAP -> Dense head', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(loaded.adapter.targetLayer).toBe('activation_48');
    expect(loaded.adapter.targetShape).toEqual([7, 7, 2048]);
    expect(loaded.adapter.headKind).toBe('gap-dense');
    expect(loaded.adapter.headActivation).toBe('softmax');
    expect(loaded.preprocessing).toBe('caffe');
    expect(loaded.labelNames[285]).toBe('Egyptian_cat');
  });

  for (const image of goldenImages()) {
    describe(image.name, () => {
      const x = () => tf.tensor4d(goldenFile(`${image.name}.x.f32`), [1, 224, 224, 3]);

      it('features and logits match the reference, top-5 classes equal', async () => {
        const input = x();
        const forward = loaded.adapter.forward(input);
        try {
          const features = await forward.activations.data();
          const logits = await forward.logits.data();
          expect(maxAbsDifference(features, goldenFile(`${image.name}.feat.f32`))).toBeLessThan(1e-3);
          expect(maxAbsDifference(logits, goldenFile(`${image.name}.logits.f32`))).toBeLessThan(1e-3);
          expect(topK(logits, logits, 5).map((ranked) => ranked.label)).toEqual(image.top5);
        } finally {
          tf.dispose([input, forward.activations, forward.logits]);
        }
      });

      for (const gradientPath of ['analytic', 'autodiff'] as const) {
        it(`every method with a reference matches it within 1e-3 (${gradientPath} gradients), without leaks`, async () => {
          const before = tf.memory().numTensors;
          const input = x();
          const forward = loaded.adapter.forward(input);
          const methods = REFERENCES.map(([id]) => id);
          const results = await explain(loaded.adapter, input, forward, { labels: [image.label], methods, gradientPath });
          try {
            for (const [index, [id, reference]] of REFERENCES.entries()) {
              const result = results[index]!;
              expect(result.method).toBe(id);
              expect(result.normalized.shape).toEqual([1, 7, 7]);
              const difference = maxAbsDifference(
                await result.normalized.data(),
                goldenFile(`${image.name}.${reference}.${image.label}.f32`),
              );
              expect(difference, `${id} vs ${reference}`).toBeLessThanOrEqual(1e-3);
            }
          } finally {
            results.forEach(disposeMethodMaps);
            tf.dispose([input, forward.activations, forward.logits]);
          }
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    });
  }
});
