/** The shared pipeline (pixels -> pass -> C_x -> labels -> methods -> plain maps): same maps as explain(), no leak. */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStudioError } from '../shared/errors';
import { initNodeBackend } from '../node/backend';
import { maxAbsDifference } from '../testing/golden';
import { tinySigmoidFixture, type TinyFixture } from '../testing/tiny-models';
import { upsampleMaps } from './maps/filters';
import { disposeMethodMaps, explain } from './methods/explain';
import { detectedOf, explainImage, explainPass, passOfInput, passOfPixels, releasePass } from './pipeline';

let fixture: TinyFixture;
beforeAll(async () => {
  await initNodeBackend('wasm');
  fixture = tinySigmoidFixture();
});
afterAll(() => fixture.release());

describe('the shared pipeline', () => {
  it('a pass from pixels holds the preprocessed input and its forward pass, and releases them all', async () => {
    const { adapter } = fixture;
    const [height, width] = adapter.inputShape;
    const before = tf.memory().numTensors;
    const pixels = tf.tidy(() => tf.cast(tf.mul(tf.randomUniform([1, height, width, 3], 0, 1, 'float32', 5), 255), 'int32')) as tf.Tensor4D;
    const pass = await passOfPixels(adapter, pixels, 'unit');
    pixels.dispose();
    expect(pass.probs.length).toBe(adapter.numClasses);
    expect(pass.input.shape).toEqual([1, height, width, adapter.inputShape[2]]);
    expect(Math.max(...(await pass.input.data()))).toBeLessThanOrEqual(1);
    releasePass(pass);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an input whose scores are NaN or Inf (non-finite-output), freeing the input and the pass', async () => {
    const { adapter } = fixture;
    const [height, width, channels] = adapter.inputShape;
    const before = tf.memory().numTensors;
    const poisoned = tf.fill([1, height, width, channels], Number.NaN) as tf.Tensor4D;
    let caught: unknown = null;
    try {
      releasePass(await passOfInput(adapter, poisoned));
    } catch (error) {
      caught = error;
    }
    expect(isStudioError(caught, 'non-finite-output'), String(caught)).toBe(true);
    expect((caught as Error).message).toMatch(new RegExp(`holds ${adapter.numClasses} NaN or infinite scores of ${adapter.numClasses}`));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explainImage gives the maps of explain(), with display and raw copies, and leaves no tensor', async () => {
    const { adapter, input } = fixture;
    const pass = await passOfInput(adapter, tf.clone(input));
    try {
      await explainImage(adapter, pass, { labels: 'auto', methods: ['cam'] }); // warm-up
      const before = tf.memory().numTensors;
      const image = await explainImage(adapter, pass, {
        labels: 'auto',
        methods: ['cam', 'gradcam', 'minmax-cam'],
        topK: 2,
        displaySize: [9, 11],
        keepRaw: true,
      });
      expect(tf.memory().numTensors).toBe(before);
      const detected = detectedOf(pass, { kind: 'sigmoid', threshold: 0.5 });
      expect(image.detected).toEqual(detected);
      expect(image.labels).toEqual(detected.length > 0 ? detected : [image.predictions[0]!.label]);
      expect(image.predictions).toHaveLength(2);
      expect(image.maps.map((map) => map.method)).toEqual(
        image.labels.length === 0
          ? []
          : [...image.labels.map(() => 'cam'), ...image.labels.map(() => 'gradcam'), ...image.labels.map(() => 'minmax-cam')],
      );
      const direct = await explain(adapter, pass.input, pass.forward, {
        labels: image.labels,
        methods: ['minmax-cam'],
        detected: image.detected,
      });
      try {
        const mine = image.maps.filter((map) => map.method === 'minmax-cam');
        const normalized = (await direct[0]!.normalized.data()) as Float32Array;
        const [, h, w] = direct[0]!.normalized.shape;
        const display = upsampleMaps(direct[0]!.normalized, [9, 11]);
        const displayData = (await display.data()) as Float32Array;
        display.dispose();
        mine.forEach((map, n) => {
          expect(maxAbsDifference(map.normalized, normalized.subarray(n * h * w, (n + 1) * h * w))).toBeLessThan(1e-6);
          expect(maxAbsDifference(map.display!, displayData.subarray(n * 99, (n + 1) * 99))).toBeLessThan(1e-6);
          expect(map.raw).toHaveLength(h * w);
          expect(map.rawMax).toBeGreaterThanOrEqual(map.rawMin);
        });
      } finally {
        direct.forEach(disposeMethodMaps);
      }
    } finally {
      releasePass(pass);
    }
  });

  it('meta-methods go through the same entry; a bad label is refused; a cancellation leaks nothing', async () => {
    const { adapter, input } = fixture;
    const pass = await passOfInput(adapter, tf.clone(input));
    try {
      const before = tf.memory().numTensors;
      const meta = await explainPass(adapter, pass, { labels: [0], methods: ['gradcam'], meta: { tta: { hflip: true, scales: [] } } });
      expect(meta.results[0]!.resolution).toBe('input');
      meta.results.forEach(disposeMethodMaps);
      const bad = await explainPass(adapter, pass, { labels: [adapter.numClasses], methods: ['cam'] }).catch((error: unknown) => error);
      expect(isStudioError(bad, 'label-out-of-range')).toBe(true);
      const stop = () => {
        throw Object.assign(new Error('stop'), { name: 'cancelled' });
      };
      await expect(explainImage(adapter, pass, { labels: [0], methods: ['gradcam'], checkpoint: stop })).rejects.toThrow('stop');
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      releasePass(pass);
    }
  });
});
