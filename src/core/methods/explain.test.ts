import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { handWeightedInput, handWeightedModel, tinyClassifier, tinyInput } from '../../testing/tiny-models';
import { isStudioError, StudioError } from '../../shared/errors';
import { normalizeMaps, upsampleMaps, weightedSum } from '../maps/filters';
import { ClassifierAdapter, type ForwardPass } from '../model/adapter';
import { ExplainContext } from './context';
import type { MethodOptions } from '../../shared/options';
import { disposeMethodMaps, explain, type ExplainRequest } from './explain';
import { METHOD_IDS, type MethodId } from '../../shared/methods';

interface Fixture {
  adapter: ClassifierAdapter;
  input: tf.Tensor4D;
  forward: ForwardPass;
}
function fixture(model: tf.LayersModel, input: tf.Tensor4D): Fixture {
  const adapter = new ClassifierAdapter(model);
  return { adapter, input, forward: adapter.forward(input) };
}
function release(f: Fixture): void {
  tf.dispose([f.input, f.forward.activations, f.forward.logits]);
  f.adapter.dispose();
}

/** Runs explain() and downloads every map: { method: { raw: number[][][], normalized: number[][][] } }. */
async function run(f: Fixture, request: Omit<ExplainRequest, 'methods'> & { methods: readonly MethodId[] }) {
  const results = await explain(f.adapter, f.input, f.forward, request);
  try {
    const out: Record<
      string,
      { raw: number[][][]; normalized: number[][][]; rawFlat: Float32Array; normFlat: Float32Array; extras: Record<string, number[]> }
    > = {};
    for (const r of results) {
      out[r.method] = {
        raw: await r.raw.array(),
        normalized: await r.normalized.array(),
        rawFlat: (await r.raw.data()) as Float32Array,
        normFlat: (await r.normalized.data()) as Float32Array,
        extras: r.extras,
      };
    }
    return out;
  } finally {
    results.forEach(disposeMethodMaps);
  }
}

let tiny: Fixture;
let hand: Fixture;
beforeAll(async () => {
  await initNodeBackend('wasm');
  tiny = fixture(tinyClassifier('gap-dense-sigmoid'), tinyInput());
  hand = fixture(handWeightedModel(), handWeightedInput());
});
afterAll(() => {
  release(tiny);
  release(hand);
});

describe('MinMax family on a model with hand-chosen weights', () => {
  // W = [[2, 1, 0], [-2, 1, 3]], A^0 = [[1, 0], [0, 0]], A^1 = [[0, 0], [0, 1]], C_x = {0, 1}.
  const detected = [0, 1];

  it('detects labels 0 and 1', async () => {
    const probs = tiny.adapter.probabilities(hand.forward.logits);
    expect(Array.from(await hand.forward.logits.data()).map((v) => +v.toFixed(5))).toEqual([1, 0.5, -4.25]);
    probs.dispose();
  });

  it('CAM: M_u = sum_k W[k, u] A^k', async () => {
    const maps = await run(hand, { labels: [0, 1, 2], methods: ['cam'], detected });
    // u=0: 2 A^0 - 2 A^1 -> ReLU [[2, 0], [0, 0]]; u=1: A^0 + A^1; u=2: 3 A^1
    expect(maps['cam']!.raw).toEqual([
      [
        [2, 0],
        [0, 0],
      ],
      [
        [1, 0],
        [0, 1],
      ],
      [
        [0, 0],
        [0, 3],
      ],
    ]);
    expect(maps['cam']!.normalized[1]).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('MinMax-CAM subtracts the other detected labels: w^u = W[:, u] - W[:, other]', async () => {
    const maps = await run(hand, { labels: [0, 1], methods: ['minmax-cam'], detected });
    // u=0: w = [2-1, -2-1] = [1, -3] -> [[1, 0], [0, -3]] -> ReLU; u=1: w = [-1, 3] -> [[0, 0], [0, 3]]
    expect(maps['minmax-cam']!.raw).toEqual([
      [
        [1, 0],
        [0, 0],
      ],
      [
        [0, 0],
        [0, 3],
      ],
    ]);
  });

  it('D-MinMax-CAM: ReLU(W_u) - ReLU(mean W_others) + min(0, mean W_detected)', async () => {
    const maps = await run(hand, { labels: [0, 1], methods: ['d-minmax-cam'], detected });
    // bg = min(0, [(2+1)/2, (-2+1)/2]) = [0, -0.5]
    // u=0: [2, 0] - [1, 1] + [0, -0.5] = [1, -1.5] -> [[1, 0], [0, -1.5]] -> ReLU [[1, 0], [0, 0]]
    // u=1: [1, 1] - [2, 0] + [0, -0.5] = [-1, 0.5] -> [[-1, 0], [0, 0.5]] -> ReLU [[0, 0], [0, 0.5]]
    expect(maps['d-minmax-cam']!.raw).toEqual([
      [
        [1, 0],
        [0, 0],
      ],
      [
        [0, 0],
        [0, 0.5],
      ],
    ]);
  });

  it('MinMax-Grad-CAM and D-MinMax-Grad-CAM equal their CAM forms on a GAP -> Dense head, analytic or autodiff', async () => {
    for (const gradientPath of ['analytic', 'autodiff'] as const) {
      const maps = await run(hand, {
        labels: [0, 1],
        methods: ['minmax-cam', 'minmax-gradcam', 'd-minmax-cam', 'd-minmax-gradcam'],
        detected,
        gradientPath,
      });
      expect(maxAbsDifference(maps['minmax-gradcam']!.rawFlat, maps['minmax-cam']!.rawFlat)).toBeLessThan(1e-6);
      expect(maxAbsDifference(maps['d-minmax-gradcam']!.rawFlat, maps['d-minmax-cam']!.rawFlat)).toBeLessThan(1e-6);
    }
  });

  it('with one detected label MinMax-CAM equals CAM', async () => {
    const maps = await run(tiny, { labels: [2], methods: ['cam', 'minmax-cam', 'd-minmax-cam'], detected: [2] });
    expect(maxAbsDifference(maps['minmax-cam']!.rawFlat, maps['cam']!.rawFlat)).toBeLessThan(1e-6);
  });
});

describe('gradients', () => {
  it('analytic and autodiff gradients of a GAP -> Dense head agree, several labels in one pass', async () => {
    const before = tf.memory().numTensors;
    const make = (gradientPath: 'analytic' | 'autodiff') =>
      new ExplainContext({ ...tiny, labels: [0, 2, 4], detected: [1, 2], gradientPath });
    const analytic = make('analytic');
    const autodiff = make('autodiff');
    expect(analytic.gradients().shape).toEqual([3, 8, 8, 6]);
    const a = await analytic.gradients().data();
    expect(maxAbsDifference(a, await autodiff.gradients().data())).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(a).map(Math.abs))).toBeGreaterThan(0);
    analytic.dispose();
    autodiff.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Grad-CAM equals CAM up to the scale 1/(h w) on a GAP -> Dense head', async () => {
    const maps = await run(tiny, { labels: [1, 3], methods: ['cam', 'gradcam'] });
    expect(
      maxAbsDifference(
        Array.from(maps['cam']!.rawFlat).map((v) => v / 64),
        maps['gradcam']!.rawFlat,
      ),
    ).toBeLessThan(1e-5);
    expect(maxAbsDifference(maps['cam']!.normFlat, maps['gradcam']!.normFlat)).toBeLessThan(1e-4);
  });
});

describe('input saliency', () => {
  it('SmoothGrad with zero noise equals the vanilla gradient', async () => {
    const options: Partial<MethodOptions> = { smoothgrad: { samples: 3, noiseLevel: 0, seed: 1 } };
    const maps = await run(tiny, { labels: [0, 3], methods: ['saliency', 'smoothgrad'], options });
    expect(maps['saliency']!.raw.length).toBe(2);
    expect(maps['saliency']!.raw[0]!.length).toBe(16); // input resolution
    expect(maxAbsDifference(maps['saliency']!.rawFlat, maps['smoothgrad']!.rawFlat)).toBeLessThan(1e-6);
  });

  it("Integrated Gradients' completeness gap shrinks as steps grow", async () => {
    // A curved model (tanh): on a piecewise-linear path the Riemann sum is nearly exact at any step count.
    const curved = fixture(tinyClassifier('gap-dense-sigmoid', 3, 'tanh'), tf.mul(tinyInput(), 4) as tf.Tensor4D);
    const gaps: number[] = [];
    for (const steps of [2, 8, 64]) {
      const maps = await run(curved, {
        labels: [1],
        methods: ['integrated-gradients'],
        options: { integratedGradients: { steps, batchSize: 16 } },
      });
      gaps.push(Math.abs(maps['integrated-gradients']!.extras['completenessGap']![0]!));
    }
    release(curved);
    expect(gaps[1]).toBeLessThan(gaps[0]!);
    expect(gaps[2]).toBeLessThan(gaps[1]!);
    expect(gaps[2]).toBeLessThan(0.05 * gaps[0]! + 1e-3);
  });
});

describe('perturbation', () => {
  it('Ablation-CAM closed form equals re-running the head with each channel zeroed', async () => {
    const maps = await run(tiny, { labels: [0, 2], methods: ['ablationcam'] });
    // By hand: w_k = (S_c - S_c(A without k)) / S_c, M = sum_k w_k A^k.
    const expected = tf.tidy(() => {
      const [, , , k] = tiny.forward.activations.shape;
      const keep = tf.sub(1, tf.eye(k)); // [K, K]
      const ablated = tf.mul(tiny.forward.activations, tf.reshape(keep, [k, 1, 1, k])) as tf.Tensor4D; // [K, h, w, K]
      const scores = tf.gather(tiny.adapter.headLogits(ablated), [0, 2], 1); // [K, 2]
      const original = tf.gather(tiny.forward.logits, [0, 2], 1); // [1, 2]
      const weights = tf.transpose(tf.div(tf.sub(original, scores), original)) as tf.Tensor2D; // [2, K]
      return normalizeMaps(tf.relu(weightedSum(tiny.forward.activations, weights)) as tf.Tensor3D);
    });
    expect(maxAbsDifference(maps['ablationcam']!.normFlat, await expected.data())).toBeLessThan(1e-5);
    expected.dispose();
  });

  it('Score-CAM: batches serve every label, variants differ, the channel cap and progress work', async () => {
    const progress: Array<[number, number]> = [];
    const base = await explain(tiny.adapter, tiny.input, tiny.forward, {
      labels: [0, 1, 2],
      methods: ['scorecam'],
      options: { scorecam: { variant: 'probability', batchSize: 4, maxChannels: null } },
      onProgress: (_method, done, total) => progress.push([done, total]),
    });
    expect(base[0]!.normalized.shape).toEqual([3, 8, 8]);
    // 6 channels: one measuring pass (core/batching.ts), then up to 4 per batch (+ the zero mask if any constant channel).
    expect(base[0]!.extras['forwardPasses']![0]).toBeLessThanOrEqual(4);
    expect(base[0]!.notes).toEqual([]);
    expect(progress[progress.length - 1]![0]).toBe(progress[progress.length - 1]![1]);
    base.forEach(disposeMethodMaps);
    const softmax = await run(tiny, {
      labels: [0],
      methods: ['scorecam'],
      options: { scorecam: { variant: 'softmax-logits', batchSize: 16, maxChannels: null } },
    });
    const capped = await run(tiny, {
      labels: [0],
      methods: ['scorecam'],
      options: { scorecam: { variant: 'softmax-logits', batchSize: 16, maxChannels: 1 } },
    });
    expect(maxAbsDifference(softmax['scorecam']!.normFlat, capped['scorecam']!.normFlat)).toBeGreaterThan(1e-3);
  });

  it('Score-CAM shrinks a batch larger than the memory budget, says so, and gives the same maps', async () => {
    const options = { scorecam: { variant: 'probability' as const, batchSize: 6, maxChannels: null } };
    const roomy = await explain(tiny.adapter, tiny.input, tiny.forward, { labels: [0, 1], methods: ['scorecam'], options });
    const before = tf.memory().numTensors;
    // A budget of 1 byte: every batch holds one masked input.
    const tight = await explain(tiny.adapter, tiny.input, tiny.forward, {
      labels: [0, 1],
      methods: ['scorecam'],
      options,
      memoryBudgetBytes: 1,
    });
    expect(tight[0]!.notes).toHaveLength(1);
    expect(tight[0]!.notes[0]).toMatch(
      /^Score-CAM ran at most 1 masked input per forward pass instead of the 6 asked for: .*more than the 0 MiB of working memory/,
    );
    expect(tight[0]!.extras['forwardPasses']![0]).toBeGreaterThanOrEqual(6);
    expect(maxAbsDifference(await tight[0]!.normalized.data(), await roomy[0]!.normalized.data())).toBeLessThan(1e-5);
    tight.forEach(disposeMethodMaps);
    expect(tf.memory().numTensors).toBe(before);
    roomy.forEach(disposeMethodMaps);
  });

  it('cancelling between batches stops Score-CAM with nothing leaked', async () => {
    const before = tf.memory().numTensors;
    let checks = 0;
    await expect(
      explain(tiny.adapter, tiny.input, tiny.forward, {
        labels: [0],
        methods: ['scorecam'],
        options: { scorecam: { variant: 'probability', batchSize: 1, maxChannels: null } },
        checkpoint: () => {
          checks += 1;
          if (checks === 3) throw new StudioError('cancelled', 'Cancelled by the user.');
        },
      }),
    ).rejects.toThrowError(/Cancelled/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('every method', () => {
  it.each(METHOD_IDS.map((id) => [id]))('%s: maps in [0, 1] per label, no NaN, no leak', async (id) => {
    const options: Partial<MethodOptions> = {
      smoothgrad: { samples: 2, noiseLevel: 0.1, seed: 0 },
      integratedGradients: { steps: 4, batchSize: 8 },
    };
    await run(tiny, { labels: [0, 1], methods: [id], detected: [0, 1, 2], options }); // warm-up
    const before = tf.memory().numTensors;
    const maps = await run(tiny, { labels: [0, 1], methods: [id], detected: [0, 1, 2], options });
    expect(tf.memory().numTensors).toBe(before);
    const values = Array.from(maps[id]!.normFlat);
    expect(values.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    expect(Math.min(...Array.from(maps[id]!.rawFlat))).toBeGreaterThanOrEqual(0);
  });

  it('a loop of 50 explanations keeps numTensors flat', async () => {
    const fast = METHOD_IDS.filter((id) => !['scorecam', 'smoothgrad', 'integrated-gradients'].includes(id));
    await run(tiny, { labels: [0], methods: fast });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i += 1)
      await run(tiny, { labels: [i % 5, (i + 1) % 5], methods: [fast[i % fast.length]!, 'gradcam'], detected: [0, 1, 2] });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects labels out of range and methods the head cannot support, with clear messages', async () => {
    await expect(explain(tiny.adapter, tiny.input, tiny.forward, { labels: [5], methods: ['cam'] })).rejects.toSatisfy(
      (error) => isStudioError(error, 'label-out-of-range') && /classes 0 to 4/.test((error as Error).message),
    );
    const generic = fixture(tinyClassifier('gap-dense-dense'), tinyInput());
    try {
      await expect(explain(generic.adapter, generic.input, generic.forward, { labels: [0], methods: ['minmax-cam'] })).rejects.toThrowError(
        /GlobalAveragePooling -> Dense/,
      );
      const before = tf.memory().numTensors;
      const maps = await run(generic, { labels: [0, 1], methods: ['gradcam', 'minmax-gradcam', 'ablationcam'], detected: [0, 1] });
      expect(maps['gradcam']!.normalized.length).toBe(2);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      release(generic);
    }
  });
});

describe('filters', () => {
  it('normalizeMaps gives 0 (never NaN) for constant maps and does not leak', async () => {
    const before = tf.memory().numTensors;
    const maps = tf.tensor3d([
      [
        [2, 2],
        [2, 2],
      ],
      [
        [0, 1],
        [2, 4],
      ],
    ]);
    const normalized = normalizeMaps(maps);
    expect(Array.from(await normalized.data())).toEqual([0, 0, 0, 0, 0, 0.25, 0.5, 1]);
    tf.dispose([maps, normalized]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('weightedSum is sum_k w[n, k] A^k, and upsampleMaps keeps a constant map constant', async () => {
    const before = tf.memory().numTensors;
    const activations = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const weights = tf.tensor2d([
      [1, 0],
      [0.5, 0.1],
    ]);
    const sums = weightedSum(activations, weights);
    expect(maxAbsDifference(await sums.data(), [1, 2, 3, 4, 1.5, 3, 4.5, 6])).toBeLessThan(1e-5);
    const constant = tf.fill([1, 3, 3], 0.7) as tf.Tensor3D;
    const big = upsampleMaps(constant, [12, 9]);
    expect(big.shape).toEqual([1, 12, 9]);
    expect(Math.max(...Array.from(await big.data()).map((v) => Math.abs(v - 0.7)))).toBeLessThan(1e-6);
    tf.dispose([activations, weights, sums, constant, big]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
