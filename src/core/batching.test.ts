import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../node/backend';
import { BatchSizer, profiledPeak, tidyWithPeak } from './batching';

const MIB = 1024 * 1024;

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('BatchSizer', () => {
  it('measures with one input, then keeps a requested batch that fits memory and time, with no note', () => {
    const sizer = new BatchSizer({ requested: 16, memoryBudgetBytes: 1024 * MIB, what: 'Score-CAM' });
    expect(sizer.next(100)).toBe(1);
    sizer.record(1, 2 * MIB, 5);
    expect(sizer.next(100)).toBe(16);
    expect(sizer.next(7)).toBe(7);
    expect(sizer.note()).toBeNull();
  });

  it('shrinks a batch memory cannot hold, and says by how much and why', () => {
    const sizer = new BatchSizer({ requested: 64, memoryBudgetBytes: 1024 * MIB, what: 'Score-CAM' });
    sizer.next(2048);
    sizer.record(1, 100 * MIB, 1);
    expect(sizer.next(2048)).toBe(10);
    expect(sizer.note()).toBe(
      'Score-CAM ran at most 10 masked inputs per forward pass instead of the 64 asked for: 64 would hold about 6400 MiB (100 MiB each), more than the 1024 MiB of working memory allowed here. The maps are the same; only the batching differs.',
    );
  });

  it('keeps batches short on a slow backend (cancel between batches within a second), silently', () => {
    const sizer = new BatchSizer({ requested: 16, memoryBudgetBytes: 1024 * MIB, what: 'Score-CAM', targetBatchMs: 400 });
    sizer.next(100);
    sizer.record(1, MIB, 300); // the first input also compiles: slow
    expect(sizer.next(100)).toBe(1);
    sizer.record(1, MIB, 100);
    expect(sizer.next(100)).toBe(2); // per input: (300 + 100) / 2 = 200 ms
    sizer.record(2, 2 * MIB, 100);
    expect(sizer.next(100)).toBe(3); // (200 + 50) / 2 = 125 ms
    expect(sizer.note()).toBeNull();
  });
});

describe('BatchSizer over the same model again', () => {
  it('starts from the measurement of the last loop over that model: no measuring batch, the same note', () => {
    const model = {};
    const first = new BatchSizer({ requested: 64, memoryBudgetBytes: 1024 * MIB, what: 'Score-CAM', measuredOn: model });
    expect(first.next(100)).toBe(1);
    first.record(1, 100 * MIB, 1);
    const again = new BatchSizer({ requested: 64, memoryBudgetBytes: 1024 * MIB, what: 'Score-CAM', measuredOn: model });
    expect(again.measuring).toBe(false);
    expect(again.next(100)).toBe(10);
    expect(again.note()).toBe(first.note());
    // Another loop kind, or another model, measures afresh.
    expect(new BatchSizer({ requested: 64, what: 'The faithfulness metrics', measuredOn: model }).next(100)).toBe(1);
    expect(new BatchSizer({ requested: 64, what: 'Score-CAM', measuredOn: {} }).next(100)).toBe(1);
  });
});

describe('tidyWithPeak', () => {
  it('reports the bytes the tidy held at its end and frees the intermediates', () => {
    const before = tf.memory().numTensors;
    const { result, peakBytes } = tidyWithPeak(() => {
      const big = tf.ones([1000]); // 4000 bytes, intermediate
      return tf.sum(tf.mul(big, 2)); // + 4000 bytes intermediate + 4 bytes result
    });
    expect(peakBytes).toBeGreaterThanOrEqual(8004);
    expect(peakBytes).toBeLessThan(9000);
    expect(result.dataSync()[0]).toBe(2000);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('profiledPeak', () => {
  it('sees intermediates freed before the end (as a LayersModel frees its own activations), which the tidy end misses', async () => {
    const compute = () => {
      const big = tf.ones([100_000]); // 400 KB, freed before the end
      const small = tf.sum(big);
      big.dispose();
      return small;
    };
    const atEnd = tidyWithPeak(compute);
    const profiled = await profiledPeak(compute);
    expect(atEnd.peakBytes).toBeLessThan(1000);
    expect(profiled.peakBytes).toBeGreaterThanOrEqual(400_000);
    expect(profiled.result.dataSync()[0]).toBe(100_000);
    const before = tf.memory().numTensors;
    atEnd.result.dispose();
    profiled.result.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
  });
});
