import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../node/backend';
import { tinySigmoidFixture, type TinyFixture } from '../testing/tiny-models';
import { disposeMethodMaps, explain } from './methods/explain';
import { explainWithMeta } from './methods/meta';
import { deterministicSeed } from './random';

let fixture: TinyFixture;
let adapter: TinyFixture['adapter'];
let input: tf.Tensor4D;
let forward: TinyFixture['forward'];
beforeAll(async () => {
  await initNodeBackend('wasm');
  fixture = tinySigmoidFixture();
  ({ adapter, input, forward } = fixture);
});
afterAll(() => fixture.release());

describe('seeded noise', () => {
  it('never hands TF.js a falsy seed (which would mean Math.random)', () => {
    expect(deterministicSeed(0)).not.toBe(0);
    expect(deterministicSeed(0, 0)).not.toBe(deterministicSeed(0, 1));
    expect(deterministicSeed(3, 2)).toBe(deterministicSeed(3, 2));
  });

  it('SmoothGrad (seed 0, the default) and the smoothing meta-method give the same maps run after run', async () => {
    const smoothgrad = async () => {
      const [result] = await explain(adapter, input, forward, {
        labels: [0],
        methods: ['smoothgrad'],
        options: { smoothgrad: { samples: 3, noiseLevel: 0.2, seed: 0 } },
      });
      try {
        return Array.from(await result!.raw.data());
      } finally {
        disposeMethodMaps(result!);
      }
    };
    expect(await smoothgrad()).toEqual(await smoothgrad());
    const smoothed = async () => {
      const [result] = await explainWithMeta(
        adapter,
        input,
        { labels: [0], methods: ['cam'] },
        { smooth: { samples: 2, noiseLevel: 0.2, seed: 0 } },
      );
      try {
        return Array.from(await result!.raw.data());
      } finally {
        disposeMethodMaps(result!);
      }
    };
    expect(await smoothed()).toEqual(await smoothed());
  });
});
