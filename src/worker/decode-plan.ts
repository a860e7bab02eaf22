/**
 * Deciding how to decode an image before decoding it, from its header alone (read with the image-size
 * library: PNG, JPEG, GIF, WebP, BMP, ...). A decoded image costs 4 bytes per pixel, so a 20000 x 20000
 * photo would need 1.6 GB: such files are refused with a message instead of crashing the worker, and large
 * ones are decoded straight to a smaller size (the studio never shows or feeds more than a few thousand
 * pixels a side). No worker globals: tested in Node.
 */
import { imageSize } from 'image-size';
import { StudioError } from '../shared/errors';

/** Larger images are refused (100 megapixels: 400 MB once decoded). */
export const MAX_DECODE_PIXELS = 100_000_000;
/** Images with a longer side are decoded scaled down to it (display and models need far less). */
export const DECODE_MAX_SIDE = 4096;
/** How many leading bytes are read to find the size (JPEG's size marker may follow a large EXIF block). */
export const HEADER_BYTES = 1 << 20;

export interface DecodePlan {
  /** As stored (before EXIF orientation). */
  width: number;
  height: number;
  /** Decode scaled to this size (after EXIF orientation), aspect kept; absent: full size. */
  resize?: { width: number; height: number };
}

/**
 * The plan for an image whose leading bytes are `header`; null when the header says nothing the library
 * can read (the browser's decoder then decides, and says so if it cannot). Throws `image-too-large`.
 */
export function planDecode(header: Uint8Array): DecodePlan | null {
  let size: { width?: number; height?: number; orientation?: number };
  try {
    size = imageSize(header);
  } catch {
    return null;
  }
  const { width, height } = size;
  if (width === undefined || height === undefined || width <= 0 || height <= 0) return null;
  const pixels = width * height;
  if (pixels > MAX_DECODE_PIXELS) {
    throw new StudioError(
      'image-too-large',
      `This image is ${width} x ${height} pixels (${Math.round(pixels / 1e6)} megapixels); the studio decodes at most ${MAX_DECODE_PIXELS / 1e6} megapixels ` +
        `(it would need ${Math.round(((pixels * 4) / 1e9) * 10) / 10} GB of memory once decoded). Scale it down first, e.g. to ${DECODE_MAX_SIDE} pixels on its longer side.`,
    );
  }
  const longer = Math.max(width, height);
  if (longer <= DECODE_MAX_SIDE) return { width, height };
  const scale = DECODE_MAX_SIDE / longer;
  // EXIF orientations 5 to 8 swap the axes; the resize applies to the oriented image.
  const swapped = size.orientation !== undefined && size.orientation >= 5 && size.orientation <= 8;
  const [shownWidth, shownHeight] = swapped ? [height, width] : [width, height];
  return {
    width,
    height,
    resize: { width: Math.max(1, Math.round(shownWidth * scale)), height: Math.max(1, Math.round(shownHeight * scale)) },
  };
}
