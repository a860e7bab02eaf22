import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resizeBilinear } from '../../shared/resample';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { tinySigmoidFixture, type TinyFixture } from '../../testing/tiny-models';
import { isStudioError, StudioError } from '../../shared/errors';
import { upsampleMaps } from '../maps/filters';
import { explainCells } from './cells';
import { disposeMethodMaps, explain } from './explain';

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

describe('explainCells', () => {
  it('resolves "top", runs each method once for its labels, and matches explain() without leaking', async () => {
    const probs = await tf.tidy(() => adapter.probabilities(forward.logits)).data();
    const top = probs.indexOf(Math.max(...probs));
    const other = (top + 1) % probs.length;
    await explainCells(adapter, input, forward, [{ method: 'cam', label: 'top' }]); // warm-up
    const before = tf.memory().numTensors;
    const result = await explainCells(adapter, input, forward, [
      { method: 'cam', label: 'top' },
      { method: 'gradcam', label: other },
      { method: 'cam', label: other },
      { method: 'cam', label: top },
    ]);
    expect(tf.memory().numTensors).toBe(before);
    expect(result.top.label).toBe(top);
    expect(result.top.prob).toBeCloseTo(probs[top]!, 6);
    expect(result.cells.map((c) => [c.method, c.label])).toEqual([
      ['cam', top],
      ['gradcam', other],
      ['cam', other],
      ['cam', top],
    ]);
    expect(result.cells[0]!.normalized).toEqual(result.cells[3]!.normalized);
    const [direct] = await explain(adapter, input, forward, {
      labels: [other],
      methods: ['gradcam'],
      detected: result.detected.length > 0 ? result.detected : [top],
    });
    try {
      expect(maxAbsDifference(result.cells[1]!.normalized, (await direct!.normalized.data()) as Float32Array)).toBeLessThan(1e-6);
      expect(maxAbsDifference(result.cells[1]!.raw, (await direct!.raw.data()) as Float32Array)).toBeLessThan(1e-6);
      expect(result.cells[1]!.shape).toEqual(direct!.normalized.shape.slice(1));
    } finally {
      disposeMethodMaps(direct!);
    }
  });

  it('stops at a checkpoint without leaking', async () => {
    const before = tf.memory().numTensors;
    const stop = () => {
      throw new StudioError('cancelled', 'stop');
    };
    const error = await explainCells(adapter, input, forward, [{ method: 'gradcam', label: 'top' }], { checkpoint: stop }).catch(
      (e: unknown) => e,
    );
    expect(isStudioError(error) && error.code === 'cancelled').toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('figure resampling', () => {
  it('equals tf.image.resizeBilinear (half-pixel centres) as the studio upsamples', async () => {
    const maps = tf.randomUniform([1, 7, 5], 0, 1, 'float32', 3) as tf.Tensor3D;
    const up = upsampleMaps(maps, [33, 20]);
    const expected = (await up.data()) as Float32Array;
    const ours = resizeBilinear((await maps.data()) as Float32Array, 7, 5, 33, 20);
    tf.dispose([maps, up]);
    expect(maxAbsDifference(ours, expected)).toBeLessThan(1e-5);
  });
});
