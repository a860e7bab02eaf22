/**
 * The shared resampling (shared/model-input.ts) against its reference, Pillow's bilinear resize, run by
 * Debian's python3-pil (scripts/reference/pil_resize.py) on the bundled photos (PNG and JPEG, 451x300 to
 * 640x427) and on photos derived from them of other sizes and aspect ratios (tall strips, thumbnails that the
 * model's resize enlarges, 2.5x enlargements that it reduces strongly), for square and non-square inputs
 * and both resize policies. The decoders are checked too: sharp must decode each file as Pillow does.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { modelInputPixels } from '../shared/model-input';
import type { ResizePolicy } from '../shared/model-metadata';
import { temporaryDirectory } from '../testing/temp-dir';
import { decodeImageFile, readImagePixels } from './image';

const PYTHON = '/usr/bin/python3';
const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'].map((name) => join('public/samples', name));
const probe = spawnSync(PYTHON, ['-c', 'import PIL'], { encoding: 'utf8' });
const missing = probe.status === 0 ? null : `${PYTHON} with PIL is not installed (apt-get install python3-pil)`;

interface ManifestEntry {
  photo: string;
  path: string;
  width: number;
  height: number;
  decoded: string;
  inputs: { policy: ResizePolicy; width: number; height: number; file: string }[];
}

function differences(actual: ArrayLike<number>, expected: ArrayLike<number>): { max: number; mean: number } {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < actual.length; i += 1) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / actual.length };
}

describe.skipIf(missing !== null)(`model input resampling against Pillow${missing === null ? '' : ` (cannot run: ${missing})`}`, () => {
  it('decodes every photo as Pillow does and resizes it exactly as Image.resize(BILINEAR)', { timeout: 120_000 }, async () => {
    const out = temporaryDirectory('cam-pil-');
    const made = spawnSync(PYTHON, ['scripts/reference/pil_resize.py', out, ...PHOTOS], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ManifestEntry[];
    expect(manifest.length).toBe(PHOTOS.length * 4);
    const aspects = new Set(manifest.map((entry) => Math.round((entry.width / entry.height) * 10) / 10));
    expect(aspects.size).toBeGreaterThanOrEqual(4);
    let compared = 0;
    for (const entry of manifest) {
      const decoded = await decodeImageFile(entry.path);
      expect([decoded.width, decoded.height]).toEqual([entry.width, entry.height]);
      const reference = new Uint8Array(readFileSync(join(out, entry.decoded)));
      // Same decoder family (libpng, libjpeg-turbo): identical bytes.
      expect(differences(decoded.data, reference).max, `${entry.photo} decoded`).toBe(0);
      for (const input of entry.inputs) {
        const expected = new Uint8Array(readFileSync(join(out, input.file)));
        const actual = modelInputPixels(decoded.data, decoded.width, decoded.height, 3, [input.height, input.width], input.policy);
        const { max } = differences(actual, expected);
        expect(max, `${input.file}: largest difference from Pillow`).toBe(0);
        compared += 1;
      }
    }
    // 4 input sizes, 3 of them square: 7 inputs per photo.
    expect(compared).toBe(manifest.length * 7);
  });

  it('readImagePixels gives the golden input of chelsea (made by Pillow) exactly', async () => {
    const before = tf.memory().numTensors;
    const pixels = await readImagePixels('public/samples/chelsea.png', [224, 224], 'squash');
    const rgb = await pixels.data();
    pixels.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const golden = new Float32Array(readFileSync('../shared/golden/resnet50-imagenet/chelsea.x.f32').buffer.slice(0));
    // golden = BGR - caffe means; undo it to RGB bytes.
    const means = [103.939, 116.779, 123.68];
    const goldenRgb = new Float32Array(golden.length);
    for (let p = 0; p < golden.length / 3; p += 1)
      for (let c = 0; c < 3; c += 1) goldenRgb[p * 3 + (2 - c)] = golden[p * 3 + c]! + means[c]!;
    const { max } = differences(rgb, goldenRgb);
    expect(max).toBeLessThan(0.01);
  });
});
