import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../../node/backend';
import { BFLOAT16, FLOAT16, bfloat16BitsToNumber, float16BitsToNumber, roundTensorToHalf, roundToHalf } from './half';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/** Every finite float16 value, from its bits: the values roundToHalf must map to themselves. */
const ALL_FLOAT16 = Array.from({ length: 0x7c00 }, (_, bits) => float16BitsToNumber(bits));

describe('rounding to 16-bit floats', () => {
  it('keeps every float16 value, rounds between them to the nearest (ties to even), overflows to Infinity', () => {
    for (const value of ALL_FLOAT16) {
      expect(roundToHalf(value, FLOAT16)).toBe(value);
      expect(roundToHalf(-value, FLOAT16)).toBe(-value);
    }
    expect(roundToHalf(1 / 3, FLOAT16)).toBe(0.333251953125);
    expect(roundToHalf(1 + 2 ** -11, FLOAT16)).toBe(1); // a tie: to the even neighbour
    expect(roundToHalf(1 + 3 * 2 ** -11, FLOAT16)).toBe(1 + 2 ** -9);
    expect(roundToHalf(2 ** -25, FLOAT16)).toBe(0); // half the smallest subnormal: a tie to zero
    expect(roundToHalf(3 * 2 ** -26, FLOAT16)).toBe(2 ** -24);
    expect(roundToHalf(65519, FLOAT16)).toBe(65504);
    expect(roundToHalf(65520, FLOAT16)).toBe(Infinity);
    expect(roundToHalf(-1e6, FLOAT16)).toBe(-Infinity);
    expect(Number.isNaN(roundToHalf(Number.NaN, FLOAT16))).toBe(true);
    expect(roundToHalf(0.81910545, BFLOAT16)).toBe(bfloat16BitsToNumber(16210)); // nearest, not truncated (16209)
    expect(roundToHalf(3.4e38, BFLOAT16)).toBe(Infinity);
  });

  it('the tensor version gives the same values, passes gradients straight through and leaves no tensor', async () => {
    const edges = [0, -0, 1 / 3, 1 + 2 ** -11, 2 ** -25, 3 * 2 ** -26, 65519, 65520, -1e6, Infinity, -Infinity, Number.NaN];
    const random = Array.from({ length: 4000 }, (_, i) => (Math.fround(Math.sin(i * 12.9898) * 43758.5453) % 1000) * 2 ** ((i % 40) - 20));
    const inputs = [...edges, ...ALL_FLOAT16.filter((_, i) => i % 7 === 0), ...random].map(Math.fround);
    for (const format of [FLOAT16, BFLOAT16]) {
      const before = tf.memory().numTensors;
      const x = tf.tensor1d(inputs);
      const rounded = roundTensorToHalf(x, format);
      const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(roundTensorToHalf(input, format), 3)))(x);
      const [got, grad] = [await rounded.data(), await gradient.data()];
      tf.dispose([x, rounded, gradient]);
      expect(tf.memory().numTensors).toBe(before);
      const mismatches = inputs.flatMap((value, i) => {
        const want = Math.fround(roundToHalf(value, format));
        return Object.is(got[i], want) || (Number.isNaN(want) && Number.isNaN(got[i]!)) || (want === 0 && got[i] === 0)
          ? []
          : [[value, got[i], want]];
      });
      expect(mismatches.slice(0, 5), `${format.name}: tensor and host rounding agree`).toEqual([]);
      expect(Array.from(grad).every((g) => g === 3)).toBe(true);
    }
  });
});
