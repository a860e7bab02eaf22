import { describe, expect, it } from 'vitest';
import { colormapLut } from '../shared/colormap';
import { grayBytes, normalizeRange, npyFloat32 } from './npy';
import { escapeXml, figureLayout, figureSvg, overlayPixels } from './render';
import { DEFAULT_FIGURE_SPEC, FigureSpecError, figureColumns, mmToPx, parseFigureSpec, type FigureSpec } from './spec';

const spec = (patch: Partial<FigureSpec> = {}): FigureSpec => ({
  ...DEFAULT_FIGURE_SPEC,
  images: [{ name: 'a.png' }, { name: 'b.png' }],
  ...patch,
});

describe('figure spec', () => {
  it('round-trips through JSON and fills defaults', () => {
    const original = spec({ methods: ['gradcam', 'minmax-cam'], label: 3, colormap: 'viridis', width: 'single', rowLabels: true });
    expect(parseFigureSpec(JSON.parse(JSON.stringify(original)), 8)).toEqual(original);
    expect(parseFigureSpec({ images: [{ name: 'x.png' }] })).toEqual({ ...DEFAULT_FIGURE_SPEC, images: [{ name: 'x.png' }] });
  });

  it.each([
    [[], 'JSON object'],
    [{ version: 2 }, 'version 2'],
    [{ methods: ['cam', 'nope'] }, '"methods"'],
    [{ methods: [] }, '"methods"'],
    [{ label: 8 }, 'class index from 0 to 7'],
    [{ columns: 'labels', labels: [] }, 'at least one class index'],
    [{ opacity: 2 }, '"opacity"'],
    [{ images: [{ name: 'a', src: '../../etc/passwd' }] }, 'images[0].src'],
    [{ images: [{ name: 'a', src: 'https://example.com/x.png' }] }, 'images[0].src'],
    [{ model: '../x' }, '"model"'],
  ])('rejects %j with a message naming the field', (value, message) => {
    expect(() => parseFigureSpec(value, 8)).toThrow(FigureSpecError);
    expect(() => parseFigureSpec(value, 8)).toThrow(message);
  });

  it('columns are the methods for one label, or the labels for the first method', () => {
    expect(figureColumns(spec({ methods: ['cam', 'gradcam'], label: 'top' }))).toEqual([
      { method: 'cam', label: 'top' },
      { method: 'gradcam', label: 'top' },
    ]);
    expect(figureColumns(spec({ columns: 'labels', methods: ['minmax-cam', 'cam'], labels: [2, 5] }))).toEqual([
      { method: 'minmax-cam', label: 2 },
      { method: 'minmax-cam', label: 5 },
    ]);
  });
});

describe('figure layout', () => {
  it('fills the journal column width with whole-pixel square cells', () => {
    for (const width of ['single', 'double'] as const) {
      const layout = figureLayout(spec({ width }), 2, 4);
      expect(layout.width).toBe(Math.round(mmToPx(width === 'single' ? 85 : 174)));
      expect(Number.isInteger(layout.cell)).toBe(true);
      const right = layout.columnX[3]! + layout.cell + (layout.colorBar === null ? 0 : layout.gap + layout.colorBar.width);
      expect(right).toBeLessThanOrEqual(layout.width);
      expect(layout.width - right).toBeLessThan(4 + 3 + 11 * 2.4 + 4 + 4); // margin + bar labels + rounding
      expect(layout.height).toBe(layout.rowY[1]! + layout.cell + layout.margin);
      expect(layout.columnX[1]! - layout.columnX[0]!).toBe(layout.cell + layout.gap);
    }
  });

  it('says when the columns do not fit', () => {
    expect(() => figureLayout(spec({ width: 'single' }), 1, 40)).toThrow(/do not fit/);
  });
});

describe('figure cells and SVG', () => {
  it('blends the colour map over the image at the opacity', () => {
    const image = new Uint8ClampedArray([100, 100, 100, 255, 0, 0, 0, 255]);
    const map = new Float32Array([1, Number.NaN]);
    const out = overlayPixels(image, map, 'viridis', 0.25);
    const lut = colormapLut('viridis');
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 1, 2].map((i) => Math.round(0.75 * 100 + 0.25 * lut[255 * 4 + i]!)));
    expect(Array.from(out.subarray(4, 8))).toEqual([0, 0, 0, 255]); // NaN: the image only
  });

  it('is a standalone SVG whose user text is escaped', () => {
    const s = spec({ rowLabels: true });
    const layout = figureLayout(s, 2, 3);
    const svg = figureSvg(s, layout, {
      columnTitles: ['Input', 'CAM', '<b>x</b>'],
      rowLabels: ['<script>alert(1)</script>', 'b & c'],
      cells: [
        ['data:image/png;base64,AA', 'data:image/png;base64,AB', 'data:image/png;base64,AC'],
        ['data:image/png;base64,BA', 'data:image/png;base64,BB', 'data:image/png;base64,BC'],
      ],
    });
    expect(svg).toMatch(new RegExp(`^<svg [^>]*width="${layout.width}" height="${layout.height}"`));
    expect(svg.match(/<image /g)).toHaveLength(6);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('b &amp; c');
    expect(svg).toContain('linearGradient');
    expect(escapeXml(`"'`)).toBe('&quot;&apos;');
  });
});

describe('map exports', () => {
  it('writes .npy version 1.0 with a 64-byte aligned header numpy reads', () => {
    const bytes = npyFloat32(new Float32Array([1.5, -2, 0, 3, 4, 5]), [2, 3]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    const values = new Float32Array(bytes.slice(10 + headerLength).buffer);
    expect(Array.from(values)).toEqual([1.5, -2, 0, 3, 4, 5]);
    expect(() => npyFloat32(new Float32Array(5), [2, 3])).toThrow(/does not hold/);
  });

  it('normalises and quantises maps to gray bytes', () => {
    expect(Array.from(normalizeRange(new Float32Array([2, 4, 6])))).toEqual([0, 0.5, 1]);
    expect(Array.from(normalizeRange(new Float32Array([3, 3])))).toEqual([0, 0]);
    expect(Array.from(grayBytes(new Float32Array([0, 0.5, 1, Number.NaN, 2])))).toEqual([0, 128, 255, 0, 255]);
  });
});

describe('bilinear resampling', () => {
  it('matches tf.image.resizeBilinear with half-pixel centres on a hand-computed case', async () => {
    const { resizeBilinear } = await import('../shared/resample');
    // [1, 2] -> 4 columns: positions -0.25, 0.25, 0.75, 1.25 -> 1, 1.25, 1.75, 2 (edges clamped).
    expect(Array.from(resizeBilinear(new Float32Array([1, 2]), 1, 2, 1, 4))).toEqual([1, 1.25, 1.75, 2]);
    // Same size: identity.
    const values = new Float32Array([1, 2, 3, 4, 5, 6]);
    expect(Array.from(resizeBilinear(values, 2, 3, 2, 3))).toEqual(Array.from(values));
    const { rgbToRgba } = await import('../shared/resample');
    expect(Array.from(rgbToRgba([1, 2, 3, 4, 5, 6], 2))).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
  });
});
