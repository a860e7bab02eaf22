/**
 * Node-side image input for the command line: decoding with sharp (libvips: PNG, JPEG, WebP, GIF, TIFF,
 * AVIF; EXIF orientation applied) at full resolution, then the studio's own crop and resampling
 * (shared/model-input.ts: Pillow's bilinear), so the command line and the studio feed a model the same
 * pixels for the same photo. RGB in [0, 255].
 */
import * as tf from '@tensorflow/tfjs';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import sharp from 'sharp';
import type { ResizePolicy } from '../shared/model-metadata';
import { cropAspect, modelInputPixels } from '../shared/model-input';

/** The decoded image: `[height, width, 3]` RGB bytes, EXIF orientation applied, alpha dropped. */
export async function decodeImageFile(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  // ignoreIcc: colour values as stored, as Pillow (and so most training pipelines) read them; the studio
  // decodes with colorSpaceConversion 'none' for the same reason.
  if (statSync(path).size === 0) throw new Error(`${basename(path)} is empty (0 bytes)`);
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(path, { animated: false, ignoreIcc: true })
      .rotate() // EXIF orientation
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new Error(`${basename(path)} is not an image this tool reads (PNG, JPEG, WebP, GIF, TIFF, AVIF): ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { data, info } = decoded;
  if (info.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** `[1, H, W, 3]` int32 RGB pixels of an image file, fitted to `size` (`[H, W]`) by `policy`. */
export async function readImagePixels(path: string, size: [number, number], policy: ResizePolicy): Promise<tf.Tensor4D> {
  return (await readModelInput(path, size, policy)).pixels;
}

/** {@link readImagePixels} and the aspect ratio (width / height) of the region of the photo they show. */
export async function readModelInput(
  path: string,
  size: [number, number],
  policy: ResizePolicy,
): Promise<{ pixels: tf.Tensor4D; aspect: number }> {
  const { data, width, height } = await decodeImageFile(path);
  const rgb = modelInputPixels(data, width, height, 3, size, policy);
  return { pixels: tf.tensor4d(Int32Array.from(rgb), [1, size[0], size[1], 3], 'int32'), aspect: cropAspect(width, height, policy, size) };
}
