/**
 * Minimal PNG encoding/decoding in pure TypeScript, with the (de)compressor injected so the module stays free
 * of Node and DOM APIs: in Node pass `zlib.deflateSync` / `zlib.inflateSync` (node:zlib); in a browser any
 * synchronous zlib (RFC 1950) implementation.
 *
 * Written for the synthetic-scene data: 8-bit RGB images and 8-bit palette masks whose indices must survive
 * exactly (VOC convention: the PNG stores class indices, the palette only colours them). The decoder reads
 * what the encoder writes and ordinary non-interlaced 8-bit PNGs (grey, RGB, palette, grey+alpha, RGBA);
 * nothing else (no 16-bit, no interlacing): it is for tests and for reading these masks back, not a general
 * image decoder.
 */
import { VOC_PALETTE } from './palette';

/** Compresses to a zlib stream (RFC 1950), e.g. `(data) => zlib.deflateSync(data, { level: 9 })`. */
export type Deflate = (data: Uint8Array) => Uint8Array;
/** Decompresses a zlib stream (RFC 1950), e.g. `zlib.inflateSync`. */
export type Inflate = (data: Uint8Array) => Uint8Array;

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as PNG uses it) of the given byte arrays, concatenated. */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) for (let i = 0; i < part.length; i += 1) c = CRC_TABLE[(c ^ part[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

function u32(value: number): Uint8Array {
  return Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

function chunk(type: string, data: Uint8Array): Uint8Array[] {
  const name = ascii(type);
  return [u32(data.length), name, data, u32(crc32(name, data))];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Filters scanlines (PNG filter method 0). `adaptive`: per row, the filter type with the smallest sum of
 * absolute (signed) residuals, the heuristic the PNG spec recommends for truecolour; otherwise type 0
 * (None), recommended for palette images.
 */
function filterRows(data: Uint8Array | Uint8ClampedArray, width: number, height: number, bpp: number, adaptive: boolean): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  for (let y = 0; y < height; y += 1) {
    const row = y * stride;
    const target = y * (stride + 1);
    if (!adaptive) {
      out[target] = 0;
      out.set(data.subarray(row, row + stride), target + 1);
      continue;
    }
    let bestScore = Infinity;
    for (let type = 0; type < 5; type += 1) {
      let score = 0;
      for (let i = 0; i < stride; i += 1) {
        const x = data[row + i]!;
        const a = i >= bpp ? data[row + i - bpp]! : 0;
        const b = y > 0 ? data[row - stride + i]! : 0;
        const c = i >= bpp && y > 0 ? data[row - stride + i - bpp]! : 0;
        const predicted = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const residual = (x - predicted) & 0xff;
        candidate[i] = residual;
        score += residual < 128 ? residual : 256 - residual;
      }
      if (score < bestScore) {
        bestScore = score;
        out[target] = type;
        out.set(candidate, target + 1);
      }
    }
  }
  return out;
}

function header(width: number, height: number, colourType: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`bad PNG size ${width}x${height}`);
  // width, height, bit depth 8, colour type, compression 0, filter 0, interlace 0
  return concat([u32(width), u32(height), Uint8Array.of(8, colourType, 0, 0, 0)]);
}

/** An 8-bit RGB PNG (colour type 2) of `rgb` (row-major, width * height * 3 bytes). */
export function encodeRgbPng(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, deflate: Deflate): Uint8Array {
  if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  return concat([
    SIGNATURE,
    ...chunk('IHDR', header(width, height, 2)),
    ...chunk('IDAT', deflate(filterRows(rgb, width, height, 3, true))),
    ...chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * An 8-bit palette PNG (colour type 3) storing `indices` exactly (one byte per pixel, row-major), with a
 * 256-entry palette (default: the VOC colour map, so 255 "ignore" shows as (224, 224, 192)).
 */
export function encodeIndexedPng(
  indices: Uint8Array,
  width: number,
  height: number,
  deflate: Deflate,
  palette: Uint8Array = VOC_PALETTE,
): Uint8Array {
  if (indices.length !== width * height) throw new RangeError(`expected ${width * height} indices, got ${indices.length}`);
  if (palette.length !== 768) throw new RangeError(`palette must have 256 RGB entries (768 bytes), got ${palette.length}`);
  return concat([
    SIGNATURE,
    ...chunk('IHDR', header(width, height, 3)),
    ...chunk('PLTE', palette),
    ...chunk('IDAT', deflate(filterRows(indices, width, height, 1, false))),
    ...chunk('IEND', new Uint8Array(0)),
  ]);
}

export interface DecodedPng {
  width: number;
  height: number;
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colourType: number;
  /** Samples per pixel as stored: palette images give their indices (1 byte per pixel), not colours. */
  channels: number;
  data: Uint8Array;
  /** PLTE chunk (RGB triples), when present. */
  palette?: Uint8Array;
}

const CHANNELS: Partial<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Decodes a non-interlaced 8-bit PNG; palette images keep their indices. Checks CRCs. */
export function decodePng(bytes: Uint8Array, inflate: Inflate): DecodedPng {
  for (let i = 0; i < SIGNATURE.length; i += 1) if (bytes[i] !== SIGNATURE[i]) throw new Error('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = SIGNATURE.length;
  let width = 0;
  let height = 0;
  let colourType = -1;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = view.getUint32(offset + 8 + length);
    if (crc !== crc32(bytes.subarray(offset + 4, offset + 8), data)) throw new Error(`bad CRC in ${type} chunk`);
    offset += 12 + length;
    if (type === 'IHDR') {
      const fields = new DataView(data.buffer, data.byteOffset, data.byteLength);
      width = fields.getUint32(0);
      height = fields.getUint32(4);
      const depth = data[8];
      colourType = data[9] ?? -1;
      if (depth !== 8) throw new Error(`only 8-bit PNGs are supported, got bit depth ${depth}`);
      if (data[12] !== 0) throw new Error('interlaced PNGs are not supported');
    } else if (type === 'PLTE') palette = data.slice();
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  const channels = CHANNELS[colourType];
  if (channels === undefined) throw new Error(`unsupported PNG colour type ${colourType}`);
  const raw = inflate(concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error('truncated PNG image data');
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)]!;
    const source = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i += 1) {
      const x = raw[source + i]!;
      const a = i >= channels ? out[row + i - channels]! : 0;
      const b = y > 0 ? out[row - stride + i]! : 0;
      const c = i >= channels && y > 0 ? out[row - stride + i - channels]! : 0;
      let predicted: number;
      if (filter === 0) predicted = 0;
      else if (filter === 1) predicted = a;
      else if (filter === 2) predicted = b;
      else if (filter === 3) predicted = (a + b) >> 1;
      else if (filter === 4) predicted = paeth(a, b, c);
      else throw new Error(`bad PNG filter type ${filter}`);
      out[row + i] = (x + predicted) & 0xff;
    }
  }
  return palette === undefined ? { width, height, colourType, channels, data: out } : { width, height, colourType, channels, data: out, palette };
}
