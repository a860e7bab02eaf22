/**
 * NumPy `.npy` (format version 1.0) for a float32 array, so a map exported from the studio loads with
 * `numpy.load`. The format: magic `\x93NUMPY`, version 1.0, a little-endian uint16 header length, an ASCII
 * dict header padded with spaces to a multiple of 64 bytes and ending in a newline, then the raw data
 * (little-endian, C order). Pure; no DOM.
 */
export function npyFloat32(data: Float32Array, shape: readonly number[]): Uint8Array<ArrayBuffer> {
  const count = shape.reduce((product, side) => product * side, 1);
  if (!shape.every((side) => Number.isInteger(side) && side >= 0) || count !== data.length) {
    throw new Error(`npyFloat32: shape [${shape.join(', ')}] does not hold ${data.length} values`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((preamble + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - preamble - 1, ' ')}\n`;
  const bytes = new Uint8Array(total + data.length * 4);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i += 1) bytes[preamble + i] = header.charCodeAt(i);
  const view = new DataView(bytes.buffer, total);
  for (let i = 0; i < data.length; i += 1) view.setFloat32(i * 4, data[i]!, true);
  return bytes;
}

/** A map in [0, 1] (NaN: 0) as 8-bit gray values, one byte per pixel. */
export function grayBytes(map: Float32Array): Uint8Array {
  const out = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i += 1) {
    const v = map[i]!;
    out[i] = Number.isNaN(v) ? 0 : Math.round(Math.max(0, Math.min(1, v)) * 255);
  }
  return out;
}

/** Min-max normalisation to [0, 1] (a constant map gives zeros). */
export function normalizeRange(values: Float32Array): Float32Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  return values.map((v) => (range > 0 ? (v - min) / range : 0));
}
