import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { registerConv2DBackpropFilter } from './conv2d-backprop-filter';

beforeAll(async () => {
  await initNodeBackend('wasm');
  registerConv2DBackpropFilter('wasm');
});

/** The filter gradient of sum(conv(x, w) * weights) on a backend. */
async function filterGradient(backend: string, pad: 'same' | 'valid', stride: number): Promise<Float32Array> {
  await tf.setBackend(backend);
  const x = tf.randomUniform([2, 9, 8, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 3, 4], -1, 1, 'float32', 2) as tf.Tensor4D;
  const run = async () => {
    const gradient = tf.grad((filter: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, filter as tf.Tensor4D, stride, pad))))(w);
    try {
      return (await gradient.data()) as Float32Array;
    } finally {
      gradient.dispose();
    }
  };
  await run(); // TF.js caches a few constants on a backend's first gradient
  const before = tf.memory().numTensors;
  const values = await run();
  const after = tf.memory().numTensors;
  tf.dispose([x, w]);
  expect(after).toBe(before);
  return values;
}

describe('Conv2DBackpropFilter for wasm', () => {
  it.each([['same', 1], ['same', 2], ['valid', 1], ['valid', 2]] as const)('matches the cpu backend (pad %s, stride %d), without leaks', async (pad, stride) => {
    const reference = await filterGradient('cpu', pad, stride);
    const ours = await filterGradient('wasm', pad, stride);
    expect(tf.getBackend()).toBe('wasm');
    expect(maxAbsDifference(ours, reference)).toBeLessThan(1e-3);
  });
});
