import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { tinyClassifier, tinyInput } from '../../testing/tiny-models';
import { isStudioError, StudioError } from '../errors';
import { normalizeMaps, upsampleMaps, weightedSum } from '../maps/filters';
import { ClassifierAdapter, type ForwardPass } from '../model/adapter';
import { ExplainContext } from './context';
import { disposeMethodMaps, explainMethods } from './explain';

let adapter: ClassifierAdapter;
let input: tf.Tensor4D;
let forward: ForwardPass;
beforeAll(async () => {
  await initNodeBackend('wasm');
  adapter = new ClassifierAdapter(tinyClassifier('gap-dense-sigmoid'));
  input = tinyInput();
  forward = adapter.forward(input);
});
afterAll(() => {
  tf.dispose([input, forward.activations, forward.logits]);
  adapter.dispose();
});

const run = async (labels: number[], methods: Parameters<typeof explainMethods>[3], gradientPath: 'analytic' | 'autodiff' = 'analytic') => {
  const results = explainMethods(adapter, forward, labels, methods, { gradientPath });
  try {
    return await Promise.all(results.map(async (r) => ({ method: r.method, raw: await r.raw.array(), normalized: await r.normalized.data(), rawData: await r.raw.data() })));
  } finally {
    results.forEach(disposeMethodMaps);
  }
};

describe('gradients', () => {
  it('analytic and autodiff gradients of a GAP -> Dense head agree, for several labels in one pass', async () => {
    const before = tf.memory().numTensors;
    const analytic = new ExplainContext(adapter, forward, [0, 2, 4], 'analytic');
    const autodiff = new ExplainContext(adapter, forward, [0, 2, 4], 'autodiff');
    const a = await analytic.gradients().data();
    const b = await autodiff.gradients().data();
    expect(analytic.gradients().shape).toEqual([3, 8, 8, 6]);
    expect(maxAbsDifference(a, b)).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(a).map(Math.abs))).toBeGreaterThan(0);
    analytic.dispose();
    autodiff.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('explainMethods', () => {
  it('Grad-CAM equals CAM up to the scale 1/(h w) on a GAP -> Dense head', async () => {
    const [camMaps, gradcamMaps] = await run([1, 3], ['cam', 'gradcam']);
    const camRaw = camMaps!.rawData;
    const gradRaw = gradcamMaps!.rawData;
    expect(maxAbsDifference(Array.from(camRaw).map((v) => v / 64), gradRaw)).toBeLessThan(1e-5);
    expect(maxAbsDifference(camMaps!.normalized, gradcamMaps!.normalized)).toBeLessThan(1e-4);
  });

  it('normalised maps are in [0, 1], with max 1 where the map is not constant; raw maps are ReLU-ed', async () => {
    const [maps] = await run([0, 1, 2, 3, 4], ['cam']);
    const normalized = Array.from(maps!.normalized);
    expect(Math.min(...normalized)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...normalized)).toBeLessThanOrEqual(1);
    expect(Math.min(...Array.from(maps!.rawData))).toBeGreaterThanOrEqual(0);
    for (let label = 0; label < 5; label += 1) {
      const slice = normalized.slice(label * 64, (label + 1) * 64);
      if (Math.max(...slice) > 0) expect(Math.max(...slice)).toBeCloseTo(1, 5);
    }
  });

  it('does not leak, on success or when a checkpoint cancels half-way', async () => {
    await run([0], ['cam', 'gradcam']); // warm-up
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i += 1) await run([0, 4], ['cam', 'gradcam'], i % 2 === 0 ? 'analytic' : 'autodiff');
    expect(tf.memory().numTensors).toBe(before);
    let calls = 0;
    expect(() => explainMethods(adapter, forward, [0], ['cam', 'gradcam'], {
      checkpoint: () => {
        calls += 1;
        if (calls === 2) throw new StudioError('cancelled', 'cancelled');
      },
    })).toThrowError(/cancelled/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects labels out of range with a clear message', () => {
    try {
      explainMethods(adapter, forward, [5], ['cam']);
      expect.unreachable();
    } catch (error) {
      expect(isStudioError(error, 'label-out-of-range')).toBe(true);
      expect((error as Error).message).toMatch(/classes 0 to 4/);
    }
  });

  it('on a generic head: Grad-CAM works through autodiff, CAM is refused with the reason', async () => {
    const generic = new ClassifierAdapter(tinyClassifier('gap-dense-dense'));
    const genericForward = generic.forward(input);
    const before = tf.memory().numTensors;
    try {
      const [gradcamMaps] = explainMethods(generic, genericForward, [0, 1], ['gradcam']);
      expect(gradcamMaps!.normalized.shape).toEqual([2, 8, 8]);
      disposeMethodMaps(gradcamMaps!);
      expect(() => explainMethods(generic, genericForward, [0], ['cam'])).toThrowError(/GlobalAveragePooling -> Dense/);
      expect(() => new ExplainContext(generic, genericForward, [0], 'analytic')).toThrowError(/GAP -> Dense/);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([genericForward.activations, genericForward.logits]);
      generic.dispose();
    }
  });
});

describe('filters', () => {
  it('normalizeMaps gives 0 (never NaN) for constant maps and does not leak', async () => {
    const before = tf.memory().numTensors;
    const maps = tf.tensor3d([[[2, 2], [2, 2]], [[0, 1], [2, 4]]]);
    const normalized = normalizeMaps(maps);
    expect(Array.from(await normalized.data())).toEqual([0, 0, 0, 0, 0, 0.25, 0.5, 1]);
    tf.dispose([maps, normalized]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('weightedSum is sum_k w[n, k] A^k, and upsampleMaps keeps a constant map constant', async () => {
    const before = tf.memory().numTensors;
    const activations = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const weights = tf.tensor2d([[1, 0], [0.5, 0.1]]);
    const sums = weightedSum(activations, weights);
    expect(sums.shape).toEqual([2, 2, 2]);
    expect(Array.from(await sums.data())).toEqual([1, 2, 3, 4, 1.5, 3, 4.5, 6].map((v) => expect.closeTo(v, 5)) as unknown as number[]);
    const constant = tf.fill([1, 3, 3], 0.7) as tf.Tensor3D;
    const big = upsampleMaps(constant, [12, 9]);
    expect(big.shape).toEqual([1, 12, 9]);
    expect(Math.max(...Array.from(await big.data()).map((v) => Math.abs(v - 0.7)))).toBeLessThan(1e-6);
    tf.dispose([activations, weights, sums, constant, big]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
