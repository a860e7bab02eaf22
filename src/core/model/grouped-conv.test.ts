import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import {
  GROUPED_STRATEGIES,
  groupedConv2d,
  groupedStrategyFor,
  keptTfFilter,
  useGroupedStrategy,
  type GroupedStrategy,
} from './grouped-conv';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

type Shape4 = [number, number, number, number];

/** A grouped convolution by its definition (ONNX Conv, NCHW filter [O, p, kh, kw], NHWC input), stride 1, zero padding `pad`. */
function reference(x: Float32Array, xShape: Shape4, filter: Float32Array, fShape: Shape4, group: number, pad: number): Float32Array {
  const [n, h, w, cin] = xShape;
  const [o, p, kh, kw] = fShape;
  const q = o / group;
  const [oh, ow] = [h + 2 * pad - kh + 1, w + 2 * pad - kw + 1];
  const out = new Float32Array(n * oh * ow * o);
  for (let b = 0; b < n; b += 1)
    for (let y = 0; y < oh; y += 1)
      for (let xx = 0; xx < ow; xx += 1)
        for (let k = 0; k < o; k += 1) {
          const g = Math.floor(k / q);
          let sum = 0;
          for (let c = 0; c < p; c += 1)
            for (let dy = 0; dy < kh; dy += 1)
              for (let dx = 0; dx < kw; dx += 1) {
                const [iy, ix] = [y + dy - pad, xx + dx - pad];
                if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                sum += x[((b * h + iy) * w + ix) * cin + g * p + c]! * filter[((k * p + c) * kh + dy) * kw + dx]!;
              }
          out[((b * oh + y) * ow + xx) * o + k] = sum;
        }
  return out;
}

describe('grouped convolution strategies', () => {
  it.each([
    { group: 4, cin: 8, o: 12, k: 3 },
    { group: 2, cin: 6, o: 4, k: 1 },
    { group: 8, cin: 16, o: 16, k: 3 },
  ])(
    'per-group, block-diagonal and depthwise-sum give the definition and the same input gradient (g $group, $cin -> $o, $k x $k)',
    async ({ group, cin, o, k }) => {
      const xShape: Shape4 = [2, 7, 6, cin];
      const fShape: Shape4 = [o, cin / group, k, k];
      const x = tf.randomUniform(xShape, -1, 1, 'float32', 3) as tf.Tensor4D;
      const filterData = (await tf.randomUniform(fShape, -1, 1, 'float32', 4).data()) as Float32Array;
      const pad = (k - 1) / 2;
      const want = reference((await x.data()) as Float32Array, xShape, filterData, fShape, group, pad);
      const weights = tf.randomUniform([2, 7, 6, o], -1, 1, 'float32', 5);
      const gradients: Float32Array[] = [];
      for (const strategy of GROUPED_STRATEGIES as GroupedStrategy[]) {
        const before = tf.memory().numTensors;
        const filter = keptTfFilter(() => tf.transpose(tf.tensor4d(filterData, fShape), [2, 3, 1, 0]), group, strategy);
        expect(filter.mode).toBe(strategy);
        const padding = [
          [0, 0],
          [pad, pad],
          [pad, pad],
          [0, 0],
        ] as tf.backend_util.ExplicitPadding;
        const y = tf.tidy(() => groupedConv2d(x, filter, [1, 1], padding, [1, 1]));
        expect(maxAbsDifference((await y.data()) as Float32Array, want), `${strategy} forward`).toBeLessThan(1e-5);
        const gradient = tf.grad((input: tf.Tensor) =>
          tf.sum(tf.mul(groupedConv2d(input as tf.Tensor4D, filter, [1, 1], padding, [1, 1]), weights)),
        )(x);
        gradients.push((await gradient.data()) as Float32Array);
        tf.dispose([y, gradient, ...filter.tensors]);
        expect(tf.memory().numTensors, `${strategy} leaves no tensor`).toBe(before);
      }
      for (const [i, gradient] of gradients.entries())
        expect(maxAbsDifference(gradient, gradients[0]!), GROUPED_STRATEGIES[i]).toBeLessThan(1e-5);
      tf.dispose([x, weights]);
    },
  );
});

describe('groupedStrategyFor', () => {
  it('picks depthwise-sum for many narrow groups on wasm and cpu, per-group otherwise (the measured rule)', () => {
    expect(groupedStrategyFor('wasm', 32, 4)).toBe('depthwise-sum'); // ResNeXt-50 layer1
    expect(groupedStrategyFor('cpu', 32, 16)).toBe('depthwise-sum'); // ResNeXt-50 layer3
    expect(groupedStrategyFor('wasm', 32, 32)).toBe('per-group'); // ResNeXt-50 layer4
    expect(groupedStrategyFor('wasm', 2, 32)).toBe('per-group'); // ResNeSt-50 split attention
    expect(groupedStrategyFor('webgpu', 32, 4)).toBe('per-group');
    useGroupedStrategy('block-diagonal');
    try {
      expect(groupedStrategyFor('wasm', 32, 4)).toBe('block-diagonal');
    } finally {
      useGroupedStrategy(null);
    }
  });
});
