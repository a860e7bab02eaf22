import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { registerWasmConvGradients, useFilterGradient, type FilterGradientImplementation } from './conv-gradients';

beforeAll(async () => {
  await initNodeBackend('wasm');
});
afterAll(() => registerWasmConvGradients('wasm'));

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
  const cases = (['core', 'conv'] as const).flatMap((kernel) =>
    (
      [
        ['same', 1],
        ['same', 2],
        ['valid', 1],
        ['valid', 2],
      ] as const
    ).map(([pad, stride]) => [kernel, pad, stride] as const),
  );
  it.each(cases)(
    '%s kernel matches the cpu backend (pad %s, stride %d), without leaks',
    async (kernel: FilterGradientImplementation, pad, stride) => {
      useFilterGradient(kernel, 'wasm');
      const reference = await filterGradient('cpu', pad, stride);
      const ours = await filterGradient('wasm', pad, stride);
      expect(tf.getBackend()).toBe('wasm');
      expect(maxAbsDifference(ours, reference)).toBeLessThan(1e-3);
    },
  );
});

describe('Conv2DBackpropInput for wasm (registered at import, before the backend starts)', () => {
  // 1x1 filters take the backend's own kernel, 3x3 the single-convolution one: both must be bound.
  it.each([
    [1, 1],
    [3, 1],
    [3, 2],
  ] as const)('filter size %d, stride %d: matches the cpu backend', async (size, stride) => {
    const inputGradient = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const x = tf.randomUniform([2, 9, 9, 8], -1, 1, 'float32', 4) as tf.Tensor4D;
      const w = tf.randomUniform([size, size, 8, 5], -1, 1, 'float32', 5) as tf.Tensor4D;
      const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, w, stride, 'same'))))(x);
      try {
        return (await gradient.data()) as Float32Array;
      } finally {
        tf.dispose([x, w, gradient]);
      }
    };
    const reference = await inputGradient('cpu');
    const ours = await inputGradient('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(maxAbsDifference(ours, reference)).toBeLessThan(1e-3);
  });
});

// (TF.js's own gradient of a depthwise convolution refuses dilation > 1, whatever the backend.)
describe('DepthwiseConv2dNativeBackpropInput for wasm', () => {
  it.each([
    [1, 1, 'same', 1],
    [2, 1, 'same', 2],
    [1, 1, 'valid', 2],
    [
      2,
      1,
      [
        [0, 0],
        [1, 0],
        [0, 1],
        [0, 0],
      ],
      3,
    ],
  ] as const)(
    'matches the cpu backend (stride %d, dilation %d, pad %j, multiplier %d), without leaks',
    async (stride, dilation, pad, multiplier) => {
      const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 3, multiplier], 0, 1, 'float32', 2) as tf.Tensor4D;
      const gradient = (): tf.Tensor =>
        tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, w, stride, pad as never, 'NHWC', dilation))))(x);
      await tf.setBackend('cpu');
      const xc = tf.tensor4d(await x.data(), x.shape);
      const wc = tf.tensor4d(await w.data(), w.shape);
      const expected = await tf
        .grad((a: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, wc, stride, pad as never, 'NHWC', dilation))))(xc)
        .data();
      tf.dispose([xc, wc]);
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const got = gradient();
      expect(maxAbsDifference(await got.data(), expected)).toBeLessThan(1e-4);
      got.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w]);
    },
  );
});
