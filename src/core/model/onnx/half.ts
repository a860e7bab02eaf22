/**
 * 16-bit floats in a float32 engine. The studio computes in float32; a model's float16 (IEEE 754 binary16)
 * and bfloat16 weights and inputs are widened exactly when they are read (proto.ts), and a Cast *to* one of
 * them rounds each value to the nearest value the 16-bit format holds (ties to even, overflow to ±Infinity),
 * kept in float32. So a Cast to float16 gives the same numbers as in a float16 runtime, and a mixed-precision
 * export (autocast) computes like its float32 original between its casts.
 */
import * as tf from '@tensorflow/tfjs';

/** A binary floating-point format narrower than float32: stored mantissa bits, smallest normal exponent, largest finite value. */
export interface HalfFormat {
  readonly name: 'float16' | 'bfloat16';
  readonly mantissaBits: number;
  readonly minExponent: number;
  readonly maxFinite: number;
}

export const FLOAT16: HalfFormat = { name: 'float16', mantissaBits: 10, minExponent: -14, maxFinite: 65504 };
export const BFLOAT16: HalfFormat = { name: 'bfloat16', mantissaBits: 7, minExponent: -126, maxFinite: (2 - 2 ** -7) * 2 ** 127 };

/** The format of ONNX TensorProto.DataType `type` (10 float16, 16 bfloat16), or null. */
export function halfFormatOf(type: number): HalfFormat | null {
  return type === 10 ? FLOAT16 : type === 16 ? BFLOAT16 : null;
}

/** IEEE 754 binary16 bits to a number. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** bfloat16 bits (the top half of a float32) to a number. */
export function bfloat16BitsToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16);
  return view.getFloat32(0);
}

/** `value` rounded to the nearest value of `format` (ties to even; beyond the largest finite value, ±Infinity). */
export function roundToHalf(value: number, format: HalfFormat): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.abs(value);
  // The exponent of the value's leading bit; below the smallest normal exponent the spacing stays that of subnormals.
  const exponent = Math.max(Math.floor(Math.log2(magnitude)), format.minExponent);
  const spacing = 2 ** (exponent - format.mantissaBits);
  const units = magnitude / spacing;
  const whole = Math.floor(units);
  const fraction = units - whole;
  const rounded = (fraction > 0.5 || (fraction === 0.5 && whole % 2 === 1) ? whole + 1 : whole) * spacing;
  return Math.sign(value) * (rounded > format.maxFinite ? Infinity : rounded);
}

/**
 * The tensor version of roundToHalf, element-wise on float32 `x` (any shape). The gradient passes straight
 * through (the rounding's own derivative is zero almost everywhere, which would stop every gradient method).
 */
export function roundTensorToHalf(x: tf.Tensor, format: HalfFormat): tf.Tensor {
  const round = tf.customGrad((input) => {
    const value = tf.tidy(() => {
      const magnitude = tf.abs(input as tf.Tensor);
      let exponent = tf.maximum(tf.floor(tf.div(tf.log(magnitude), Math.LN2)), format.minExponent);
      // log() is not exact near powers of two: move the exponent so that 2^e <= |x| < 2^(e+1) (or e is the subnormal floor).
      const power = tf.pow(2, exponent);
      exponent = tf.where(
        tf.logicalAnd(tf.greater(power, magnitude), tf.greater(exponent, format.minExponent)),
        tf.sub(exponent, 1),
        exponent,
      );
      exponent = tf.where(tf.lessEqual(tf.mul(tf.pow(2, exponent), 2), magnitude), tf.add(exponent, 1), exponent);
      const spacing = tf.pow(2, tf.sub(exponent, format.mantissaBits));
      const units = tf.div(magnitude, spacing);
      const whole = tf.floor(units);
      const fraction = tf.sub(units, whole);
      const odd = tf.equal(tf.mod(whole, 2), 1);
      const up = tf.logicalOr(tf.greater(fraction, 0.5), tf.logicalAnd(tf.equal(fraction, 0.5), odd));
      const rounded = tf.mul(tf.add(whole, tf.cast(up, 'float32')), spacing);
      const limited = tf.where(tf.greater(rounded, format.maxFinite), tf.fill(rounded.shape, Infinity), rounded);
      // Not tf.sign: the wasm backend's Sign gives 0 for |x| below about 1e-7.
      const signed = tf.where(tf.less(input as tf.Tensor, 0), tf.neg(limited), limited);
      // Zeros, infinities and NaN are what they were.
      const keep = tf.logicalOr(tf.logicalOr(tf.equal(magnitude, 0), tf.equal(magnitude, Infinity)), tf.isNaN(input as tf.Tensor));
      return tf.where(keep, input as tf.Tensor, signed);
    });
    return { value, gradFunc: (dy: tf.Tensor) => dy };
  });
  return round(x);
}
