import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { generateScene } from '../data/shapes';
import { VOC_PALETTE, maskToRgb, rgbaToMask } from './palette';
import { decodePng, encodeIndexedPng, encodeRgbPng } from './png';

describe('shape scene PNGs', () => {
  it('uses the VOC palette: 0 black, 1 (128,0,0), 8 (64,0,0), 15 (192,128,128), 255 (224,224,192)', () => {
    const colour = (i: number) => Array.from(VOC_PALETTE.subarray(i * 3, i * 3 + 3));
    expect(colour(0)).toEqual([0, 0, 0]);
    expect(colour(1)).toEqual([128, 0, 0]);
    expect(colour(2)).toEqual([0, 128, 0]);
    expect(colour(8)).toEqual([64, 0, 0]);
    expect(colour(15)).toEqual([192, 128, 128]);
    expect(colour(255)).toEqual([224, 224, 192]);
    // Distinct colours for background, the 8 classes and ignore.
    expect(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 255].map((i) => colour(i).join())).size).toBe(10);
  });

  it('mask PNGs keep their exact indices (fast-png) and show VOC colours (sharp)', async () => {
    for (const seed of [3, 2_000_001]) {
      const scene = generateScene(seed);
      const png = encodeIndexedPng(scene.mask, scene.size, scene.size);
      const decoded = decodePng(png);
      expect(decoded.colourType).toBe(3);
      expect(decoded.palette).toEqual(VOC_PALETTE);
      expect(Buffer.from(decoded.data).equals(Buffer.from(scene.mask))).toBe(true);
      // An independent decoder (libvips/libspng) sees the palette colours of those indices.
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([scene.size, scene.size, 3]);
      expect(Buffer.from(data).equals(Buffer.from(maskToRgb(scene.mask)))).toBe(true);
      const metadata = await sharp(png).metadata();
      expect(metadata.isPalette).toBe(true);
    }
  });

  it('RGB image PNGs round-trip exactly (fast-png and sharp)', async () => {
    const scene = generateScene(11);
    const png = encodeRgbPng(scene.image, scene.size, scene.size);
    expect(Buffer.from(decodePng(png).data).equals(Buffer.from(scene.image))).toBe(true);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    expect(Buffer.from(data).equals(Buffer.from(scene.image))).toBe(true);
  });

  it('reads PNGs written by another encoder (sharp, filtered RGB) and rejects corrupt ones', async () => {
    const scene = generateScene(5);
    const png = await sharp(Buffer.from(scene.image), { raw: { width: scene.size, height: scene.size, channels: 3 } })
      .png()
      .toBuffer();
    expect(Buffer.from(decodePng(png).data).equals(Buffer.from(scene.image))).toBe(true);
    const corrupt = Uint8Array.from(encodeIndexedPng(scene.mask, scene.size, scene.size));
    corrupt[40] = corrupt[40]! ^ 0xff;
    expect(() => decodePng(corrupt)).toThrow(/CRC/);
    expect(() => decodePng(new Uint8Array(16))).toThrow(/not a PNG/);
  });
});

describe('rgbaToMask', () => {
  it('reads class indices back from the VOC colours (a browser decodes palette PNGs to RGBA); unknown colours are 255', () => {
    const scene = generateScene(11, { size: 32 });
    const rgb = maskToRgb(scene.mask);
    const rgba = new Uint8ClampedArray(scene.mask.length * 4);
    for (let p = 0; p < scene.mask.length; p += 1) rgba.set([rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!, 255], p * 4);
    expect(Buffer.from(rgbaToMask(rgba)).equals(Buffer.from(scene.mask))).toBe(true);
    expect(Array.from(rgbaToMask([1, 2, 3, 255, 0, 0, 0, 255]))).toEqual([255, 0]);
  });
});
