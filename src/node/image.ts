/**
 * Node-side image input for the command line: decoding with sharp (libvips: PNG, JPEG, WebP, GIF, TIFF,
 * AVIF; EXIF orientation applied), the same crop/resize policies as the studio, RGB in [0, 255].
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { ResizePolicy } from '../shared/model-metadata';

/** `[1, H, W, 3]` int32 RGB pixels of an image file, resized to `size` by `policy`. */
export async function readImagePixels(path: string, size: [number, number], policy: ResizePolicy): Promise<tf.Tensor4D> {
  const [height, width] = size;
  const { data, info } = await sharp(path, { animated: false })
    .rotate() // EXIF orientation
    .removeAlpha()
    .toColourspace('srgb')
    .resize(width, height, { fit: policy === 'squash' ? 'fill' : 'cover', position: 'centre', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${info.channels}`);
  return tf.tensor4d(new Int32Array(Uint8Array.from(data)), [1, height, width, 3], 'int32');
}
