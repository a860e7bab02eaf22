/**
 * Image decoding in the worker: any format the browser decodes (PNG, JPEG, WebP, GIF's first frame,
 * BMP), EXIF orientation honoured, then the model's crop/resize policy.
 */
import * as tf from '@tensorflow/tfjs';
import { rgbaToMask } from '../shared/palette';
import { StudioError } from '../shared/errors';
import { HEADER_BYTES, planDecode } from './decode-plan';
import { RESIZE_POLICY_DESCRIPTIONS, type ResizePolicy } from '../shared/model-metadata';
import { resizeBilinearPil, type Crop } from '../shared/model-input';

export interface DecodedImage {
  bitmap: ImageBitmap;
  type: string;
  /** `[width, height]` as stored, when decoded scaled down (see decode-plan.ts). */
  scaledFrom?: [number, number];
}

export const DISPLAY_MAX_SIDE = 512;

export async function decodeImage(blob: Blob): Promise<DecodedImage> {
  if (blob.size === 0) throw new StudioError('image-decode-failed', 'The file is empty (0 bytes): nothing to decode.');
  const plan = planDecode(new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer())); // throws image-too-large
  try {
    const bitmap = await createImageBitmap(blob, {
      imageOrientation: 'from-image',
      // Colour values as stored (no ICC conversion), as Pillow and sharp with ignoreIcc read them.
      colorSpaceConversion: 'none',
      ...(plan?.resize === undefined
        ? {}
        : { resizeWidth: plan.resize.width, resizeHeight: plan.resize.height, resizeQuality: 'high' as const }),
    });
    if (bitmap.width === 0 || bitmap.height === 0) throw new Error('empty image');
    return {
      bitmap,
      type: blob.type,
      ...(plan?.resize === undefined ? {} : { scaledFrom: [plan.width, plan.height] as [number, number] }),
    };
  } catch {
    const kind = blob.type === '' ? 'This file' : `This ${blob.type} file`;
    throw new StudioError(
      'image-decode-failed',
      `${kind} could not be decoded as an image: it is not an image, it is damaged, or its format is not one the browser reads (PNG, JPEG, WebP, GIF, BMP).`,
    );
  }
}

export function describePolicy(policy: ResizePolicy, crop: Crop, original: [number, number], input: [number, number]): string {
  const [width, height] = original;
  const cropped =
    policy === 'center-crop' && (crop.width !== width || crop.height !== height) ? `, centre ${crop.width}x${crop.height} kept` : '';
  return `${width}x${height} -> ${input[1]}x${input[0]}${cropped}: ${RESIZE_POLICY_DESCRIPTIONS[policy]}.`;
}

/** `[height, width]` of the crop at display resolution (longest side <= DISPLAY_MAX_SIDE). */
export function displaySizeFor(crop: Crop): [number, number] {
  const scale = Math.min(1, DISPLAY_MAX_SIDE / Math.max(crop.width, crop.height));
  return [Math.max(1, Math.round(crop.height * scale)), Math.max(1, Math.round(crop.width * scale))];
}

/** The crop at display resolution (longest side <= DISPLAY_MAX_SIDE), for drawing under the heatmaps. */
export async function displayBitmap(bitmap: ImageBitmap, crop: Crop): Promise<ImageBitmap> {
  const [resizeHeight, resizeWidth] = displaySizeFor(crop);
  return createImageBitmap(bitmap, crop.x, crop.y, crop.width, crop.height, { resizeWidth, resizeHeight, resizeQuality: 'high' });
}

/**
 * The crop resized to the model's input size, as RGB pixels in [0, 255]: the crop is read at full
 * resolution (a 1:1 copy, no smoothing) and resized by the shared Pillow-bilinear resampling
 * (shared/model-input.ts), so the studio feeds the model what the command line feeds it.
 * @returns `[1, H, W, 3]` int32
 */
export function pixelsForModel(bitmap: ImageBitmap, crop: Crop, size: [number, number]): tf.Tensor4D {
  const [height, width] = size;
  const canvas = new OffscreenCanvas(crop.width, crop.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null)
    throw new StudioError('image-decode-failed', 'This browser cannot draw images in a worker (no OffscreenCanvas 2D).');
  context.imageSmoothingEnabled = false;
  context.drawImage(bitmap, crop.x, crop.y, crop.width, crop.height, 0, 0, crop.width, crop.height);
  const { data } = context.getImageData(0, 0, crop.width, crop.height);
  const rgb = resizeBilinearPil(data, crop.width, crop.height, 4, width, height);
  return tf.tensor4d(Int32Array.from(rgb), [1, height, width, 3], 'int32');
}

/**
 * A VOC-style mask file as class indices: decoded at its own size without smoothing or colour conversion,
 * each colour looked up in the VOC palette (255 where a colour is not in it).
 */
export async function decodeMask(blob: Blob): Promise<{ width: number; height: number; data: Uint8Array }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new StudioError('image-decode-failed', 'The mask is not an image the browser can decode (expected a VOC palette PNG).');
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (context === null)
      throw new StudioError('image-decode-failed', 'This browser cannot draw images in a worker (no OffscreenCanvas 2D).');
    context.imageSmoothingEnabled = false;
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: bitmap.width, height: bitmap.height, data: rgbaToMask(data) };
  } finally {
    bitmap.close();
  }
}
