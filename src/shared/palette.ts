/**
 * The PASCAL VOC colour map (256 entries): index 0 black, 1 (128, 0, 0), 2 (0, 128, 0), ..., 255 (224, 224, 192)
 * for "ignore". Built with VOC's bit-interleaving recipe (the devkit's `labelcolormap.m`), so masks written
 * with it look like, and are read like, VOC SegmentationClass PNGs.
 */

function bit(value: number, index: number): number {
  return (value >> index) & 1;
}

/** 256 x RGB, flat (768 bytes). */
export const VOC_PALETTE: Uint8Array = (() => {
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i += 1) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let j = 0; j < 8; j += 1) {
      r |= bit(c, 0) << (7 - j);
      g |= bit(c, 1) << (7 - j);
      b |= bit(c, 2) << (7 - j);
      c >>= 3;
    }
    palette[i * 3] = r;
    palette[i * 3 + 1] = g;
    palette[i * 3 + 2] = b;
  }
  return palette;
})();

/** RGB rendering of a class-index mask with a palette (default VOC), e.g. for display. */
export function maskToRgb(mask: Uint8Array, palette: Uint8Array = VOC_PALETTE): Uint8ClampedArray {
  const rgb = new Uint8ClampedArray(mask.length * 3);
  for (let p = 0; p < mask.length; p += 1) {
    const index = mask[p]! * 3;
    rgb[p * 3] = palette[index]!;
    rgb[p * 3 + 1] = palette[index + 1]!;
    rgb[p * 3 + 2] = palette[index + 2]!;
  }
  return rgb;
}

/**
 * The class indices of a palette mask seen as colours (a browser decodes a palette PNG to RGBA): each pixel's
 * colour is looked up in the palette (default VOC); colours not in it become 255 ("ignore").
 * @param rgba `width * height * 4` bytes (ImageData order)
 */
export function rgbaToMask(rgba: ArrayLike<number>, palette: Uint8Array = VOC_PALETTE): Uint8Array {
  const lookup = new Map<number, number>();
  for (let i = palette.length / 3 - 1; i >= 0; i -= 1)
    lookup.set((palette[i * 3]! << 16) | (palette[i * 3 + 1]! << 8) | palette[i * 3 + 2]!, i);
  const mask = new Uint8Array(rgba.length / 4);
  for (let p = 0; p < mask.length; p += 1) {
    mask[p] = lookup.get((rgba[p * 4]! << 16) | (rgba[p * 4 + 1]! << 8) | rgba[p * 4 + 2]!) ?? 255;
  }
  return mask;
}
