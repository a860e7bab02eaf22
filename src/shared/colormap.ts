/**
 * Colour maps for heatmaps: one module, pure functions, no DOM.
 *
 * A colour map is sampled once into a 256-entry RGBA lookup table (LUT); colouring a map is then one
 * table look-up per pixel. Colour stays out of the math: heatmaps arrive as values in [0, 1].
 */
import {
  interpolateCividis,
  interpolateInferno,
  interpolateMagma,
  interpolatePlasma,
  interpolateTurbo,
  interpolateViridis,
} from 'd3-scale-chromatic';

export const COLORMAP_IDS = ['turbo', 'viridis', 'inferno', 'magma', 'plasma', 'cividis'] as const;
export type ColormapId = (typeof COLORMAP_IDS)[number];

export const DEFAULT_COLORMAP: ColormapId = 'turbo';

export const COLORMAP_TITLES: Record<ColormapId, string> = {
  turbo: 'Turbo (rainbow, jet-like)',
  viridis: 'Viridis',
  inferno: 'Inferno',
  magma: 'Magma',
  plasma: 'Plasma',
  cividis: 'Cividis (colour-blind safe)',
};

const INTERPOLATORS = {
  turbo: interpolateTurbo,
  viridis: interpolateViridis,
  inferno: interpolateInferno,
  magma: interpolateMagma,
  plasma: interpolatePlasma,
  cividis: interpolateCividis,
} satisfies Record<ColormapId, (t: number) => string>;

export const LUT_SIZE = 256;

export function isColormapId(value: string): value is ColormapId {
  return (COLORMAP_IDS as readonly string[]).includes(value);
}

/** Parses the colour strings d3-scale-chromatic returns: `#rrggbb`, `#rgb` or `rgb(r, g, b)`. */
export function parseColor(css: string): [number, number, number] {
  const text = css.trim();
  const hex = /^#([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(text);
  if (hex) {
    const digits = hex[1] ?? '';
    const full = digits.length === 3 ? digits.replace(/./g, (d) => d + d) : digits;
    const n = Number.parseInt(full, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const rgb = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/i.exec(text);
  if (rgb) {
    const channel = (s: string | undefined): number => Math.max(0, Math.min(255, Math.round(Number(s))));
    return [channel(rgb[1]), channel(rgb[2]), channel(rgb[3])];
  }
  throw new Error(`unrecognised colour ${JSON.stringify(css)}`);
}

const lutCache = new Map<ColormapId, Uint8ClampedArray>();

/** The colour map sampled at 256 evenly spaced points of [0, 1]: RGBA, 4 bytes per entry, alpha 255. */
export function colormapLut(id: ColormapId): Uint8ClampedArray {
  const cached = lutCache.get(id);
  if (cached) return cached;
  const interpolate = INTERPOLATORS[id];
  const lut = new Uint8ClampedArray(LUT_SIZE * 4);
  for (let i = 0; i < LUT_SIZE; i++) {
    const [r, g, b] = parseColor(interpolate(i / (LUT_SIZE - 1)));
    lut[i * 4] = r;
    lut[i * 4 + 1] = g;
    lut[i * 4 + 2] = b;
    lut[i * 4 + 3] = 255;
  }
  lutCache.set(id, lut);
  return lut;
}

/** The LUT index of a value: clamped to [0, 1], rounded to the nearest of 256 steps; NaN gives -1. */
export function lutIndex(value: number): number {
  if (Number.isNaN(value)) return -1;
  const clamped = value <= 0 ? 0 : value >= 1 ? 1 : value;
  return Math.round(clamped * (LUT_SIZE - 1));
}

/** One value's colour as [r, g, b, a] (a in 0..255); NaN is transparent black. */
export function colorOf(lut: Uint8ClampedArray, value: number): [number, number, number, number] {
  const i = lutIndex(value);
  if (i < 0) return [0, 0, 0, 0];
  return [lut[i * 4] ?? 0, lut[i * 4 + 1] ?? 0, lut[i * 4 + 2] ?? 0, lut[i * 4 + 3] ?? 0];
}

/**
 * Colours a row-major map of values in [0, 1] into RGBA pixels (ImageData layout). `alpha` in [0, 1]
 * sets every pixel's opacity; NaN values are transparent. Writes into `out` when given.
 */
export function colorize(
  values: ArrayLike<number>,
  lut: Uint8ClampedArray,
  alpha = 1,
  out: Uint8ClampedArray = new Uint8ClampedArray(values.length * 4),
): Uint8ClampedArray {
  if (out.length < values.length * 4) throw new Error(`colorize: output holds ${out.length / 4} pixels, need ${values.length}`);
  const a = Math.round(Math.max(0, Math.min(1, alpha)) * 255);
  for (let p = 0; p < values.length; p++) {
    const i = lutIndex(values[p] ?? Number.NaN);
    const o = p * 4;
    if (i < 0) {
      out[o] = 0;
      out[o + 1] = 0;
      out[o + 2] = 0;
      out[o + 3] = 0;
      continue;
    }
    out[o] = lut[i * 4] ?? 0;
    out[o + 1] = lut[i * 4 + 1] ?? 0;
    out[o + 2] = lut[i * 4 + 2] ?? 0;
    out[o + 3] = a;
  }
  return out;
}

/** Evenly spaced CSS colour stops for a legend gradient (`count` >= 2). */
export function gradientStops(id: ColormapId, count = 11): { offset: number; color: string }[] {
  const lut = colormapLut(id);
  const stops: { offset: number; color: string }[] = [];
  for (let k = 0; k < count; k++) {
    const t = k / (count - 1);
    const [r, g, b] = colorOf(lut, t);
    stops.push({ offset: t, color: `rgb(${r}, ${g}, ${b})` });
  }
  return stops;
}
