/**
 * The one resampling from a decoded image to a model's input, shared by the studio's worker and the
 * command line so that both feed a model the same pixels for the same photo.
 *
 * Reference: Pillow's `Image.resize(size, Image.BILINEAR)` on an 8-bit RGB image (libImaging/Resample.c),
 * which is how the golden inputs (`../shared/golden/*\/NAME.x.f32`) were made. It is a separable triangle
 * filter whose support widens with the reduction factor (antialiasing: every source pixel under the output
 * pixel's footprint contributes), computed in fixed point with 22 fractional bits, the horizontal pass first
 * and rounded to bytes before the vertical pass. This file reproduces that arithmetic exactly; the tests
 * compare it with Debian's python3-pil on real photos of several sizes and aspect ratios.
 *
 * Pure: no DOM, no TF.js, no Node.
 */
import type { ResizePolicy } from './model-metadata';

export interface Crop {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The region of a `width` x `height` image the model sees for an input of `inputSize` (`[height, width]`).
 * `squash`: the whole image. `center-crop`: the largest centred region with the input's aspect ratio (for a
 * square input, the centred square of the shorter side), i.e. the shorter side resized to the input, then
 * the centre cropped.
 */
export function cropFor(width: number, height: number, policy: ResizePolicy, inputSize: [number, number] = [1, 1]): Crop {
  if (policy === 'squash') return { x: 0, y: 0, width, height };
  const aspect = inputSize[1] / inputSize[0]; // width / height of the input
  let cropWidth = width;
  let cropHeight = Math.round(width / aspect);
  if (cropHeight > height) {
    cropHeight = height;
    cropWidth = Math.min(width, Math.round(height * aspect));
  }
  return { x: Math.floor((width - cropWidth) / 2), y: Math.floor((height - cropHeight) / 2), width: cropWidth, height: cropHeight };
}

/**
 * The shape of what the model sees as it appears in the photo, width / height: the crop's aspect ratio.
 * A squashed input is shown at the photo's own aspect (figures stretch the model's input back), a centre
 * crop at the input's.
 */
export function cropAspect(width: number, height: number, policy: ResizePolicy, inputSize: [number, number]): number {
  const crop = cropFor(width, height, policy, inputSize);
  return crop.width / crop.height;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface AxisCoefficients {
  /** First source index of each output index. */
  start: Int32Array;
  /** Number of taps of each output index. */
  taps: Int32Array;
  /** `[outSize, maxTaps]` fixed-point weights. */
  weights: Int32Array;
  maxTaps: number;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear (triangle, support 1) filter. */
function axisCoefficients(inSize: number, outSize: number): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support 1.0, widened when reducing
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const taps = new Int32Array(outSize);
  const weights = new Int32Array(outSize * maxTaps);
  const raw = new Float64Array(maxTaps);
  for (let o = 0; o < outSize; o += 1) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x += 1) {
      const distance = Math.abs((x + xmin - center + 0.5) / filterScale);
      const weight = distance < 1 ? 1 - distance : 0;
      raw[x] = weight;
      total += weight;
    }
    for (let x = 0; x < xmax; x += 1) {
      const weight = total === 0 ? raw[x]! : raw[x]! / total;
      weights[o * maxTaps + x] = Math.trunc(weight < 0 ? -0.5 + weight * ONE : 0.5 + weight * ONE);
    }
    start[o] = xmin;
    taps[o] = xmax;
  }
  return { start, taps, weights, maxTaps };
}

function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * Resizes 8-bit pixels as Pillow's `Image.resize((outWidth, outHeight), Image.BILINEAR)` does on an RGB image.
 * @param pixels `[height, width, channels]` bytes, channels interleaved (RGB or RGBA; alpha is ignored)
 * @param crop the region to resize (default: the whole image), as `Image.crop(box).resize(...)`
 * @returns `[outHeight, outWidth, 3]` RGB bytes
 */
export function resizeBilinearPil(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels: 3 | 4,
  outWidth: number,
  outHeight: number,
  crop: Crop = { x: 0, y: 0, width, height },
): Uint8Array {
  if (pixels.length !== width * height * channels)
    throw new Error(`resizeBilinearPil: ${pixels.length} values are not ${height}x${width}x${channels}`);
  if (!(outWidth >= 1 && outHeight >= 1 && Number.isInteger(outWidth) && Number.isInteger(outHeight)))
    throw new Error(`resizeBilinearPil: output size ${outWidth}x${outHeight} is not a positive whole size`);
  const { x: cropX, y: cropY, width: cropWidth, height: cropHeight } = crop;
  // Horizontal pass (skipped when the width is kept, as Pillow does), rounded to bytes: [cropHeight, outWidth, 3].
  const rows = new Uint8Array(cropHeight * outWidth * 3);
  if (cropWidth === outWidth) {
    for (let y = 0; y < cropHeight; y += 1)
      for (let x = 0; x < outWidth; x += 1)
        for (let c = 0; c < 3; c += 1) rows[(y * outWidth + x) * 3 + c] = pixels[((cropY + y) * width + cropX + x) * channels + c]!;
  } else {
    const h = axisCoefficients(cropWidth, outWidth);
    for (let y = 0; y < cropHeight; y += 1) {
      const rowStart = (cropY + y) * width + cropX;
      for (let x = 0; x < outWidth; x += 1) {
        const first = h.start[x]!;
        const count = h.taps[x]!;
        const base = x * h.maxTaps;
        let r = HALF;
        let g = HALF;
        let b = HALF;
        for (let t = 0; t < count; t += 1) {
          const weight = h.weights[base + t]!;
          const p = (rowStart + first + t) * channels;
          r += pixels[p]! * weight;
          g += pixels[p + 1]! * weight;
          b += pixels[p + 2]! * weight;
        }
        const o = (y * outWidth + x) * 3;
        rows[o] = clip8(r);
        rows[o + 1] = clip8(g);
        rows[o + 2] = clip8(b);
      }
    }
  }
  if (cropHeight === outHeight) return rows;
  // Vertical pass: [outHeight, outWidth, 3].
  const v = axisCoefficients(cropHeight, outHeight);
  const out = new Uint8Array(outHeight * outWidth * 3);
  const rowLength = outWidth * 3;
  for (let y = 0; y < outHeight; y += 1) {
    const first = v.start[y]!;
    const count = v.taps[y]!;
    const base = y * v.maxTaps;
    for (let i = 0; i < rowLength; i += 1) {
      let sum = HALF;
      for (let t = 0; t < count; t += 1) sum += rows[(first + t) * rowLength + i]! * v.weights[base + t]!;
      out[y * rowLength + i] = clip8(sum);
    }
  }
  return out;
}

/**
 * A decoded image as the model's input pixels: the policy's crop, resized as Pillow's bilinear.
 * @param pixels `[height, width, channels]` bytes (RGB or RGBA)
 * @param inputSize `[inputHeight, inputWidth]`
 * @returns `[inputHeight, inputWidth, 3]` RGB bytes
 */
export function modelInputPixels(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels: 3 | 4,
  inputSize: [number, number],
  policy: ResizePolicy,
): Uint8Array {
  const [inputHeight, inputWidth] = inputSize;
  return resizeBilinearPil(pixels, width, height, channels, inputWidth, inputHeight, cropFor(width, height, policy, inputSize));
}
