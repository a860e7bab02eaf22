/**
 * A binary classifier with one output (Keras `Dense(1, sigmoid)`, or a one-unit softmax) is explained by
 * every method (issue #17: gradient and perturbation methods failed in tf.oneHot with depth 1). The maps
 * are finite, not all zero for the methods that weigh the evidence, and leave no tensor behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { METHOD_IDS, methodDescriptor } from '../../shared/methods';
import { ClassifierAdapter } from '../model/adapter';
import { methodAvailability } from './types';
import { DEFAULT_METHOD_OPTIONS } from '../../shared/options';
import { tinyClassifier, tinyInput } from '../../testing/tiny-models';
import { explainImage, passOfInput, releasePass } from '../pipeline';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe.each(['binary-sigmoid', 'binary-softmax'] as const)('a binary classifier (%s, one output)', (head) => {
  it('shows its prediction and is explained by every available method, leaving no tensor', async () => {
    const adapter = new ClassifierAdapter(tinyClassifier(head));
    try {
      expect(adapter.numClasses).toBe(1);
      const methods = METHOD_IDS.filter((id) => methodAvailability(methodDescriptor(id), adapter).available);
      expect(methods.length).toBeGreaterThan(15);
      const pass = await passOfInput(adapter, tinyInput());
      try {
        expect(pass.probs.length).toBe(1);
        expect(Number.isFinite(pass.probs[0])).toBe(true);
        const options = {
          scorecam: { ...DEFAULT_METHOD_OPTIONS.scorecam, maxChannels: null },
          smoothgrad: { ...DEFAULT_METHOD_OPTIONS.smoothgrad, samples: 2 },
          integratedGradients: { ...DEFAULT_METHOD_OPTIONS.integratedGradients, steps: 4 },
        };
        await explainImage(adapter, pass, { labels: [0], methods: ['cam'] }); // warm-up (kernels, caches)
        const before = tf.memory().numTensors;
        const image = await explainImage(adapter, pass, { labels: [0], methods, options });
        expect(tf.memory().numTensors).toBe(before);
        // The studio's default request: the detected set by the head's rule, top-5 predictions.
        const auto = await explainImage(adapter, pass, { labels: 'auto', methods: ['cam', 'gradcam', 'minmax-cam'] });
        expect(auto.predictions.map((ranked) => ranked.label)).toEqual([0]);
        expect(auto.labels).toEqual([0]);
        expect(auto.maps.length).toBeGreaterThan(0);
        for (const method of methods) {
          const map = image.maps.find((m) => m.method === method && m.label === 0);
          expect(map, `${method} gave a map`).toBeDefined();
          expect(Array.from(map!.normalized).every(Number.isFinite), `${method} is finite`).toBe(true);
        }
      } finally {
        releasePass(pass);
      }
    } finally {
      adapter.dispose();
    }
  });
});
