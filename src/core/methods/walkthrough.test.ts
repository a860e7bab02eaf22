import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { tinySigmoidFixture, type TinyFixture } from '../../testing/tiny-models';
import { disposeMethodMaps, explain } from './explain';
import { walkthroughData } from './walkthrough';

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

const relu = (values: Float32Array): Float32Array => values.map((v) => Math.max(0, v));

async function rawOf(method: 'cam' | 'gradcam' | 'minmax-cam', labels: number[], detected: number[]): Promise<Float32Array> {
  const [result] = await explain(adapter, input, forward, { labels, methods: [method], detected });
  try {
    return (await result!.raw.data()) as Float32Array;
  } finally {
    disposeMethodMaps(result!);
  }
}

describe('walkthroughData', () => {
  it('its weighted sums, after ReLU, are the maps of CAM, Grad-CAM and MinMax-CAM; it leaks nothing', async () => {
    await walkthroughData(adapter, input, forward, { label: 0, contrastLabel: 1, channels: 3 }); // warm-up
    const before = tf.memory().numTensors;
    const data = await walkthroughData(adapter, input, forward, { label: 0, contrastLabel: 1, channels: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const [h, w, k] = data.activationShape;
    expect(data.sums.cam!.values).toHaveLength(h * w);
    expect(maxAbsDifference(relu(data.sums.cam!.values), await rawOf('cam', [0], [0, 1]))).toBeLessThan(1e-5);
    expect(maxAbsDifference(relu(data.sums.gradcam.values), await rawOf('gradcam', [0], [0, 1]))).toBeLessThan(1e-5);
    expect(maxAbsDifference(relu(data.sums.minmax!.values), await rawOf('minmax-cam', [0], [0, 1]))).toBeLessThan(1e-5);
    expect(maxAbsDifference(relu(data.sums.contrastCam!.values), await rawOf('cam', [1], [0, 1]))).toBeLessThan(1e-5);
    // MinMax with C_x = {u, v}: w^u = W[:, u] - W[:, v]; for a GAP -> Dense head Grad-CAM's alpha = W[:, u] / (h w).
    const cam = data.weights.cam!;
    expect(
      maxAbsDifference(
        data.weights.minmax!,
        cam.map((v, i) => v - data.weights.contrastCam![i]!),
      ),
    ).toBeLessThan(1e-6);
    expect(
      maxAbsDifference(
        data.weights.gradcam,
        cam.map((v) => v / (h * w)),
      ),
    ).toBeLessThan(1e-6);
    // The channels shown are those of largest |w|, largest first, with their activation maps.
    const order = Array.from(cam.keys()).sort((a, b) => Math.abs(cam[b]!) - Math.abs(cam[a]!));
    expect(data.topChannels.map((c) => c.channel)).toEqual(order.slice(0, 3));
    const activations = (await forward.activations.data()) as Float32Array;
    const first = data.topChannels[0]!;
    expect(first.map.values[5]).toBeCloseTo(activations[5 * k + first.channel]!, 6);
    expect(data.scores.map((s) => s.label)).toEqual([0, 1]);
    expect(data.scores[0]!.prob).toBeCloseTo(1 / (1 + Math.exp(-data.scores[0]!.logit)), 6);
  });

  it('without a contrast label there are no MinMax numbers', async () => {
    const data = await walkthroughData(adapter, input, forward, { label: 1, contrastLabel: null, channels: 100 });
    expect(data.weights.minmax).toBeNull();
    expect(data.sums.minmax).toBeNull();
    expect(data.topChannels).toHaveLength(data.activationShape[2]); // capped at K
  });

  it('rejects a label out of range without leaking', async () => {
    const before = tf.memory().numTensors;
    await expect(walkthroughData(adapter, input, forward, { label: 99, contrastLabel: null, channels: 2 })).rejects.toThrow(
      /does not exist/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
