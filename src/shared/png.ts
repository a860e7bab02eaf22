/**
 * PNG files of class-index masks and RGB images, through fast-png (pure JS, the same in the browser and in
 * Node): palette PNGs keep their exact indices both ways (VOC SegmentationClass masks, pseudo-masks), RGB
 * images round-trip exactly. TF-free and DOM-free.
 */
import { decode, encode, hasPngSignature } from 'fast-png';
import { VOC_PALETTE } from './palette';

export interface DecodedPng {
  width: number;
  height: number;
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colourType: number;
  /** Samples per pixel as stored: palette images give their indices (1 byte per pixel), not colours. */
  channels: number;
  /** 8-bit samples, row-major (16-bit files are refused). */
  data: Uint8Array;
  /** The palette (RGB triples, flat), when the file has one. */
  palette?: Uint8Array;
}

/** An 8-bit RGB PNG (colour type 2) of `rgb` (row-major, width * height * 3 bytes). */
export function encodeRgbPng(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  return encode({ width, height, data: Uint8Array.from(rgb), channels: 3, depth: 8 });
}

/**
 * An 8-bit palette PNG (colour type 3) storing `indices` exactly (one byte per pixel, row-major), with a
 * 256-entry palette (default: the VOC colour map, so 255 "ignore" shows as (224, 224, 192)).
 */
export function encodeIndexedPng(indices: Uint8Array, width: number, height: number, palette: Uint8Array = VOC_PALETTE): Uint8Array {
  if (indices.length !== width * height) throw new RangeError(`expected ${width * height} indices, got ${indices.length}`);
  if (palette.length !== 768) throw new RangeError(`palette must have 256 RGB entries (768 bytes), got ${palette.length}`);
  const colours = Array.from({ length: 256 }, (_, i) => [palette[i * 3]!, palette[i * 3 + 1]!, palette[i * 3 + 2]!]);
  return encode({ width, height, data: indices, channels: 1, depth: 8, palette: colours });
}

/** Decodes an 8-bit PNG; palette images keep their indices. Checks CRCs. */
export function decodePng(bytes: Uint8Array): DecodedPng {
  if (bytes.length < 8 || !hasPngSignature(bytes)) throw new Error('not a PNG file');
  const png = decode(bytes, { checkCrc: true });
  if (png.depth !== 8) throw new Error(`only 8-bit PNGs are supported, got bit depth ${png.depth}`);
  const palette = png.palette === undefined ? undefined : Uint8Array.from(png.palette.flatMap((colour) => colour.slice(0, 3)));
  const colourType = palette !== undefined ? 3 : ({ 1: 0, 2: 4, 3: 2, 4: 6 } as Record<number, number>)[png.channels];
  if (colourType === undefined) throw new Error(`unsupported PNG with ${png.channels} channels`);
  const data = png.data instanceof Uint8Array ? png.data : Uint8Array.from(png.data);
  return palette === undefined
    ? { width: png.width, height: png.height, colourType, channels: png.channels, data }
    : { width: png.width, height: png.height, colourType, channels: png.channels, data, palette };
}
