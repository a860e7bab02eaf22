#!/usr/bin/env node
// Writes the image-format fixtures of the end-to-end tests into e2e/fixtures/images/ (deterministic):
// a JPEG with EXIF orientation 6 (stored 60x30, shown 30x60), WebP, GIF (two frames: the first is shown),
// and a 24-bit BMP, each a few hundred bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const out = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'e2e', 'fixtures', 'images');
mkdirSync(out, { recursive: true });

/** RGB pixels: left half red, right half blue (so a rotation is visible). */
function halves(width, height) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 3;
      if (x < width / 2) data[i] = 220;
      else data[i + 2] = 220;
    }
  return data;
}
const raw = (width, height) => sharp(halves(width, height), { raw: { width, height, channels: 3 } });

await raw(60, 30).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toFile(join(out, 'exif-rotated.jpg'));
await raw(40, 24).webp({ lossless: true }).toFile(join(out, 'sample.webp'));
// Two frames stacked vertically = an animated GIF of 2 pages of 40x24.
const frames = Buffer.concat([halves(40, 24), Buffer.alloc(40 * 24 * 3, 90)]);
await sharp(frames, { raw: { width: 40, height: 48, channels: 3, pageHeight: 24 } })
  .gif()
  .toFile(join(out, 'animated.gif'));

/** A bottom-up 24-bit BMP, written by hand (sharp does not write BMP). */
function bmp(width, height, rgb) {
  const rowSize = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowSize * height;
  const buffer = Buffer.alloc(size);
  buffer.write('BM', 0);
  buffer.writeUInt32LE(size, 2);
  buffer.writeUInt32LE(54, 10);
  buffer.writeUInt32LE(40, 14);
  buffer.writeInt32LE(width, 18);
  buffer.writeInt32LE(height, 22);
  buffer.writeUInt16LE(1, 26);
  buffer.writeUInt16LE(24, 28);
  buffer.writeUInt32LE(rowSize * height, 34);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) {
      const source = ((height - 1 - y) * width + x) * 3;
      const target = 54 + y * rowSize + x * 3;
      buffer[target] = rgb[source + 2];
      buffer[target + 1] = rgb[source + 1];
      buffer[target + 2] = rgb[source];
    }
  return buffer;
}
writeFileSync(join(out, 'sample.bmp'), bmp(40, 24, halves(40, 24)));
console.log(`image fixtures written to ${out}`);
