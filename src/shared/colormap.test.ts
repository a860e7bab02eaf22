import { interpolateTurbo } from 'd3-scale-chromatic';
import { describe, expect, it } from 'vitest';
import { COLORMAP_IDS, colorOf, colorize, colormapLut, gradientStops, isColormapId, LUT_SIZE, lutIndex, parseColor } from './colormap';

describe('parseColor', () => {
  it('reads hex and rgb() strings', () => {
    expect(parseColor('#21918c')).toEqual([0x21, 0x91, 0x8c]);
    expect(parseColor('#fff')).toEqual([255, 255, 255]);
    expect(parseColor('rgb(149, 251, 81)')).toEqual([149, 251, 81]);
    expect(() => parseColor('teal')).toThrow();
  });
});

describe('colormapLut', () => {
  it.each(COLORMAP_IDS)('%s has 256 opaque RGBA entries', (id) => {
    const lut = colormapLut(id);
    expect(lut).toHaveLength(LUT_SIZE * 4);
    for (let i = 0; i < LUT_SIZE; i++) expect(lut[i * 4 + 3]).toBe(255);
    // Ends differ: a colour map is not constant.
    expect(colorOf(lut, 0).slice(0, 3)).not.toEqual(colorOf(lut, 1).slice(0, 3));
  });

  it('matches the known ends of viridis and turbo', () => {
    expect(colorOf(colormapLut('viridis'), 0)).toEqual([0x44, 0x01, 0x54, 255]);
    expect(colorOf(colormapLut('viridis'), 1)).toEqual([0xfd, 0xe7, 0x25, 255]);
    // d3's turbo: near-black at 0, blue low, green middle, red high.
    const [r15, , b15] = colorOf(colormapLut('turbo'), 0.15);
    expect(b15).toBeGreaterThan(r15);
    const [r85, , b85] = colorOf(colormapLut('turbo'), 0.85);
    expect(r85).toBeGreaterThan(b85);
    // Entry i samples the interpolator at i / 255.
    expect(colorOf(colormapLut('turbo'), 128 / 255)).toEqual([...parseColor(interpolateTurbo(128 / 255)), 255]);
  });

  it('is cached', () => {
    expect(colormapLut('magma')).toBe(colormapLut('magma'));
  });

  it('viridis luminance rises monotonically (perceptually ordered)', () => {
    const lut = colormapLut('viridis');
    let previous = -1;
    for (let i = 0; i < LUT_SIZE; i += 8) {
      const l = 0.2126 * (lut[i * 4] ?? 0) + 0.7152 * (lut[i * 4 + 1] ?? 0) + 0.0722 * (lut[i * 4 + 2] ?? 0);
      expect(l).toBeGreaterThan(previous);
      previous = l;
    }
  });
});

describe('lutIndex', () => {
  it('clamps and rounds to 256 steps', () => {
    expect(lutIndex(0)).toBe(0);
    expect(lutIndex(1)).toBe(255);
    expect(lutIndex(-3)).toBe(0);
    expect(lutIndex(7)).toBe(255);
    expect(lutIndex(0.5)).toBe(128);
    expect(lutIndex(Number.NaN)).toBe(-1);
    expect(lutIndex(Number.POSITIVE_INFINITY)).toBe(255);
  });
});

describe('colorize', () => {
  it('maps values to LUT colours with the given alpha; NaN is transparent', () => {
    const lut = colormapLut('inferno');
    const out = colorize(new Float32Array([0, 1, Number.NaN, 0.5]), lut, 0.5);
    expect(out).toHaveLength(16);
    expect(Array.from(out.slice(0, 4))).toEqual([...colorOf(lut, 0).slice(0, 3), 128]);
    expect(Array.from(out.slice(4, 8))).toEqual([...colorOf(lut, 1).slice(0, 3), 128]);
    expect(Array.from(out.slice(8, 12))).toEqual([0, 0, 0, 0]);
    expect(Array.from(out.slice(12, 16))).toEqual([...colorOf(lut, 0.5).slice(0, 3), 128]);
  });

  it('writes into a given buffer and rejects one too small', () => {
    const lut = colormapLut('plasma');
    const buffer = new Uint8ClampedArray(8);
    expect(colorize([0.25, 0.75], lut, 1, buffer)).toBe(buffer);
    expect(buffer[3]).toBe(255);
    expect(() => colorize([0, 0, 0], lut, 1, buffer)).toThrow();
  });
});

describe('gradientStops and ids', () => {
  it('gives evenly spaced stops from 0 to 1', () => {
    const stops = gradientStops('turbo', 5);
    expect(stops.map((s) => s.offset)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(stops[0]?.color).toMatch(/^rgb\(\d+, \d+, \d+\)$/);
  });

  it('recognises colour map ids', () => {
    expect(isColormapId('turbo')).toBe(true);
    expect(isColormapId('jet')).toBe(false);
  });
});
