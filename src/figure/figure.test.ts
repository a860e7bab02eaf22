import { describe, expect, it } from 'vitest';
import { colormapLut } from '../shared/colormap';
import { grayBytes, normalizeRange, npyFloat32 } from './npy';
import { escapeXml, estimatedTextWidth, figureLayout, figureSvg, overlayPixels, type FigureRowBox, type FigureRowShape } from './render';
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
  const square = (n: number): FigureRowShape[] => Array.from({ length: n }, (_, r) => ({ aspect: 1, label: `image ${r}` }));

  it('fills the journal column width with whole-pixel square cells', () => {
    for (const width of ['single', 'double'] as const) {
      const layout = figureLayout(spec({ width }), square(2), 4);
      expect(layout.width).toBe(Math.round(mmToPx(width === 'single' ? 85 : 174)));
      expect(Number.isInteger(layout.cell)).toBe(true);
      const right = layout.columnX[3]! + layout.cell + (layout.colorBar === null ? 0 : layout.gap + layout.colorBar.width);
      expect(right).toBeLessThanOrEqual(layout.width);
      expect(layout.width - right).toBeLessThan(4 + 3 + 11 * 2.4 + 4 + 4); // margin + bar labels + rounding
      expect(layout.height).toBe(layout.rows[1]!.y + layout.cell + layout.margin);
      expect(layout.columnX[1]! - layout.columnX[0]!).toBe(layout.cell + layout.gap);
      expect(layout.rows.map((row) => [row.height, row.imageWidth, row.imageX])).toEqual([
        [layout.cell, layout.cell, 0],
        [layout.cell, layout.cell, 0],
      ]);
    }
  });

  it("keeps each photo's aspect ratio: landscape rows shorter, portrait images narrower and centred", () => {
    const s = spec({ width: 'double', rowLabels: false });
    const layout = figureLayout(
      s,
      [
        { aspect: 4 / 3, label: 'a' },
        { aspect: 0.5, label: 'b' },
        { aspect: 1, label: 'c' },
      ],
      3,
    );
    const { cell, gap } = layout;
    const [landscape, portrait, square] = layout.rows as [FigureRowBox, FigureRowBox, FigureRowBox];
    expect(landscape).toMatchObject({ height: Math.round(cell * 0.75), imageWidth: cell, imageX: 0 });
    expect(portrait).toMatchObject({ height: cell, imageWidth: Math.round(cell / 2) });
    expect(portrait.imageX).toBe(Math.floor((cell - portrait.imageWidth) / 2));
    expect(portrait.y).toBe(landscape.y + landscape.height + gap);
    expect(square.y).toBe(portrait.y + cell + gap);
    expect(layout.height).toBe(square.y + cell + layout.margin);
    expect(layout.colorBar?.height).toBe(square.y + cell - landscape.y);
    // The aspect survives in the rendered SVG: each <image> box is the row's box.
    const svg = figureSvg(s, layout, {
      columnTitles: ['Input', 'A', 'B'],
      cells: [
        ['u', 'u', 'u'],
        ['v', 'v', 'v'],
        ['w', 'w', 'w'],
      ],
    });
    expect(svg).toContain(
      `<image x="${layout.columnX[0]! + portrait.imageX}" y="${portrait.y}" width="${portrait.imageWidth}" height="${cell}"`,
    );
    expect(svg).toContain(`<image x="${layout.columnX[1]!}" y="${landscape.y}" width="${cell}" height="${landscape.height}"`);
  });

  it('breaks a row label that is longer than its row at " · ", and squeezes only what still does not fit', () => {
    const s = spec({ width: 'single', rowLabels: true });
    const label = 'a_rather_long_file_name.jpg · Egyptian_cat';
    const layout = figureLayout(
      s,
      [
        { aspect: 2, label },
        { aspect: 1, label: 'short' },
      ],
      3,
    );
    expect(layout.rows[0]!.labelLines).toEqual(['a_rather_long_file_name.jpg', 'Egyptian_cat']);
    expect(layout.rows[1]!.labelLines).toEqual(['short']);
    expect(layout.rowLabelWidth).toBeGreaterThan(Math.ceil(s.fontSize * 1.7)); // two text lines
    const svg = figureSvg(s, layout, { columnTitles: ['Input', 'A', 'B'], cells: [] });
    for (const line of layout.rows[0]!.labelLines) {
      const tag = svg.split('\n').find((text) => text.includes(`>${line}</text>`))!;
      expect(tag).toBeDefined();
      expect(tag.includes('textLength')).toBe(estimatedTextWidth(line, s.fontSize) > layout.rows[0]!.height);
    }
    expect(figureLayout(s, [{ aspect: 1, label: 'short · cat' }], 3).rows[0]!.labelLines).toEqual(['short · cat']);
  });

  it('says when the columns do not fit', () => {
    expect(() => figureLayout(spec({ width: 'single' }), square(1), 40)).toThrow(/do not fit/);
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
    const layout = figureLayout(
      s,
      [
        { aspect: 1, label: '<script>alert(1)</script>' },
        { aspect: 1, label: 'b & c' },
      ],
      3,
    );
    const svg = figureSvg(s, layout, {
      columnTitles: ['Input', 'CAM', '<b>x</b>'],
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

describe('figure assembly', () => {
  it("renders each row's cells at its box times the scale, the model's input stretched back to the photo's shape", async () => {
    const { renderFigure } = await import('./document');
    const s = spec({ width: 'double', rowLabels: true, showInput: true });
    const row = (name: string, aspect: number) => ({
      name,
      pixels: new Uint8ClampedArray(4 * 4 * 4).fill(128),
      pixelsShape: [4, 4] as [number, number],
      aspect,
      top: { label: 0, prob: 0.9 },
      cells: figureColumns(s).map((column) => ({
        ...column,
        label: 0,
        shape: [2, 2] as [number, number],
        normalized: new Float32Array(4),
      })),
    });
    const encoded: Array<[number, number]> = [];
    const encode = (rgba: Uint8ClampedArray, width: number, height: number): Promise<string> => {
      expect(rgba.length).toBe(width * height * 4);
      encoded.push([width, height]);
      return Promise.resolve(`data:${width}x${height}`);
    };
    const names = { labelName: () => 'cat', methodTitle: (method: string) => method };
    const figure = await renderFigure(s, [row('wide.png', 4 / 3), row('tall.png', 0.5)], names, 2, encode);
    const [wide, tall] = figure.layout.rows as [FigureRowBox, FigureRowBox];
    const perRow = figureColumns(s).length + 1;
    expect(encoded.slice(0, perRow)).toEqual(Array(perRow).fill([wide.imageWidth * 2, wide.height * 2]));
    expect(encoded.slice(perRow)).toEqual(Array(perRow).fill([tall.imageWidth * 2, tall.height * 2]));
    expect(wide.imageWidth / wide.height).toBeCloseTo(4 / 3, 1);
    expect(tall.imageWidth / tall.height).toBeCloseTo(0.5, 1);
  });
});
