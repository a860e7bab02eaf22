/**
 * Host tensors: values the importer keeps in JS rather than in TF.js, the initializers as read from the
 * file and the small integer tensors of shape arithmetic (`Shape -> Gather -> Concat -> Reshape`). Shape
 * arithmetic is computed on them at run time, so that any batch size works, and never becomes a TF.js op.
 * Integers are kept as float64 (exact to 2^53, enough for int64 dims and `INT64_MAX` sentinels).
 */

export type HostDType = 'float32' | 'int' | 'bool';

export interface HostTensor {
  dtype: HostDType;
  shape: number[];
  /** Row-major values: float32 for 'float32', float64 for 'int', 0/1 bytes for 'bool'. */
  data: Float32Array | Float64Array | Uint8Array;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((product, size) => product * size, 1);

export function hostTensor(dtype: HostDType, shape: number[], values: ArrayLike<number>): HostTensor {
  const data =
    dtype === 'float32'
      ? Float32Array.from(values)
      : dtype === 'int'
        ? Float64Array.from(values)
        : Uint8Array.from(values, (v) => (v ? 1 : 0));
  return { dtype, shape: [...shape], data };
}

/** A 1-D int64-like host tensor (shapes, axes, pads). */
export const intVector = (values: readonly number[]): HostTensor => hostTensor('int', [values.length], values);

/** The values of a host tensor as plain numbers. */
export const valuesOf = (tensor: HostTensor): number[] => Array.from(tensor.data);

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i -= 1) strides[i] = strides[i + 1]! * shape[i + 1]!;
  return strides;
}

/** Numpy broadcasting of two shapes; null when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i += 1) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** An element-wise binary operation on host tensors, with numpy broadcasting. */
export function hostBinary(a: HostTensor, b: HostTensor, op: (x: number, y: number) => number, dtype: HostDType): HostTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  if (shape === null) throw new RangeError(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
  const strides = stridesOf(shape);
  const index = (tensor: HostTensor, flat: number): number => {
    const offset = shape.length - tensor.shape.length;
    const tensorStrides = stridesOf(tensor.shape);
    let position = 0;
    for (let d = 0; d < tensor.shape.length; d += 1) {
      const coordinate = Math.floor(flat / strides[d + offset]!) % shape[d + offset]!;
      position += (tensor.shape[d] === 1 ? 0 : coordinate) * tensorStrides[d]!;
    }
    return position;
  };
  const values = Array.from({ length: sizeOf(shape) }, (_, flat) => op(a.data[index(a, flat)]!, b.data[index(b, flat)]!));
  return hostTensor(dtype, shape, values);
}

/** Gathers along `axis` with (possibly negative) indices. */
export function hostGather(data: HostTensor, indices: HostTensor, axis: number): HostTensor {
  const rank = data.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  const outer = sizeOf(data.shape.slice(0, a));
  const inner = sizeOf(data.shape.slice(a + 1));
  const size = data.shape[a]!;
  const out: number[] = [];
  for (let o = 0; o < outer; o += 1) {
    for (const raw of indices.data) {
      const i = raw < 0 ? raw + size : raw;
      if (i < 0 || i >= size) throw new RangeError(`Gather index ${raw} is out of range for a dimension of ${size}`);
      for (let k = 0; k < inner; k += 1) out.push(data.data[(o * size + i) * inner + k]!);
    }
  }
  return hostTensor(data.dtype, [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)], out);
}

/** Concatenation along `axis`. */
export function hostConcat(tensors: readonly HostTensor[], axis: number): HostTensor {
  const first = tensors[0]!;
  const rank = first.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  const outer = sizeOf(first.shape.slice(0, a));
  const out: number[] = [];
  for (let o = 0; o < outer; o += 1) {
    for (const tensor of tensors) {
      const chunk = sizeOf(tensor.shape.slice(a));
      for (let k = 0; k < chunk; k += 1) out.push(tensor.data[o * chunk + k]!);
    }
  }
  const size = tensors.reduce((sum, tensor) => sum + tensor.shape[a]!, 0);
  const dtype = tensors.some((tensor) => tensor.dtype === 'float32') ? 'float32' : first.dtype;
  return hostTensor(dtype, [...first.shape.slice(0, a), size, ...first.shape.slice(a + 1)], out);
}

/** Slicing with ONNX semantics (starts/ends clamped, negative from the end, steps). */
export function hostSlice(data: HostTensor, starts: number[], ends: number[], axes: number[], steps: number[]): HostTensor {
  const rank = data.shape.length;
  const ranges = data.shape.map((size) => ({ start: 0, end: size, step: 1 }));
  axes.forEach((axis, i) => {
    const a = axis < 0 ? axis + rank : axis;
    const size = data.shape[a]!;
    const step = steps[i] ?? 1;
    const clamp = (value: number, low: number, high: number): number => Math.max(low, Math.min(high, value));
    let start = starts[i]!;
    let end = ends[i]!;
    start = start < 0 ? start + size : start;
    end = end < 0 ? end + size : end;
    if (step > 0) ranges[a] = { start: clamp(start, 0, size), end: clamp(end, 0, size), step };
    else ranges[a] = { start: clamp(start, -1, size - 1), end: clamp(end, -1, size - 1), step };
  });
  const indices = ranges.map(({ start, end, step }) => {
    const list: number[] = [];
    for (let i = start; step > 0 ? i < end : i > end; i += step) list.push(i);
    return list;
  });
  const strides = stridesOf(data.shape);
  const out: number[] = [];
  const walk = (d: number, offset: number): void => {
    if (d === rank) {
      out.push(data.data[offset]!);
      return;
    }
    for (const i of indices[d]!) walk(d + 1, offset + i * strides[d]!);
  };
  walk(0, 0);
  return hostTensor(
    data.dtype,
    indices.map((list) => list.length),
    out,
  );
}

/** Transposition by `perm`. */
export function hostTranspose(data: HostTensor, perm: readonly number[]): HostTensor {
  const shape = perm.map((p) => data.shape[p]!);
  const inStrides = stridesOf(data.shape);
  const outStrides = stridesOf(shape);
  const values = Array.from({ length: data.data.length }, (_, flat) => {
    let offset = 0;
    for (let d = 0; d < shape.length; d += 1) offset += (Math.floor(flat / outStrides[d]!) % shape[d]!) * inStrides[perm[d]!]!;
    return data.data[offset]!;
  });
  return hostTensor(data.dtype, shape, values);
}
