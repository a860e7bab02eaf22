/**
 * Bilinear resampling of row-major maps and RGBA pixels, as `tf.image.resizeBilinear(x, size, false, true)`
 * does (half-pixel centres, edges clamped), in plain JS so the studio's UI thread and `npm run figure`
 * upsample a figure's maps identically. Pure; no DOM, no TF.js.
 */

function axis(outSize: number, inSize: number): { lower: Int32Array; upper: Int32Array; frac: Float32Array } {
  const scale = inSize / outSize;
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const frac = new Float32Array(outSize);
  for (let o = 0; o < outSize; o += 1) {
    const position = (o + 0.5) * scale - 0.5;
    const floor = Math.floor(position);
    lower[o] = Math.max(floor, 0);
    upper[o] = Math.min(Math.ceil(position), inSize - 1);
    frac[o] = position - floor;
  }
  return { lower, upper, frac };
}

/**
 * `values: [height, width, channels]` resized to `[outHeight, outWidth, channels]` (row-major, interleaved
 * channels), bilinear with half-pixel centres.
 */
export function resizeBilinear(
  values: ArrayLike<number>,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  channels = 1,
): Float32Array {
  if (values.length !== height * width * channels)
    throw new Error(`resizeBilinear: ${values.length} values are not ${height}x${width}x${channels}`);
  const ys = axis(outHeight, height);
  const xs = axis(outWidth, width);
  const out = new Float32Array(outHeight * outWidth * channels);
  for (let y = 0; y < outHeight; y += 1) {
    const top = ys.lower[y]! * width;
    const bottom = ys.upper[y]! * width;
    const dy = ys.frac[y]!;
    for (let x = 0; x < outWidth; x += 1) {
      const left = xs.lower[x]!;
      const right = xs.upper[x]!;
      const dx = xs.frac[x]!;
      for (let c = 0; c < channels; c += 1) {
        const tl = values[(top + left) * channels + c]!;
        const tr = values[(top + right) * channels + c]!;
        const bl = values[(bottom + left) * channels + c]!;
        const br = values[(bottom + right) * channels + c]!;
        const t = tl + (tr - tl) * dx;
        const b = bl + (br - bl) * dx;
        out[(y * outWidth + x) * channels + c] = t + (b - t) * dy;
      }
    }
  }
  return out;
}

/** RGBA pixels `[height, width, 4]` resized bilinearly, rounded back to bytes. */
export function resizePixels(
  pixels: Uint8ClampedArray,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
): Uint8ClampedArray {
  if (outHeight === height && outWidth === width) return pixels.slice();
  return Uint8ClampedArray.from(resizeBilinear(pixels, height, width, outHeight, outWidth, 4), (v) => Math.round(v));
}

/** Packed RGB (3 values per pixel, 0-255) as opaque RGBA pixels. */
export function rgbToRgba(rgb: ArrayLike<number>, pixels: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(pixels * 4);
  for (let p = 0; p < pixels; p += 1) {
    rgba[p * 4] = rgb[p * 3]!;
    rgba[p * 4 + 1] = rgb[p * 3 + 1]!;
    rgba[p * 4 + 2] = rgb[p * 3 + 2]!;
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}
