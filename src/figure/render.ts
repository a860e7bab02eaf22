/**
 * A figure's geometry, cell pixels and SVG, shared by the studio's figure builder and `npm run figure`
 * so both produce the same figure. Pure functions: no DOM, no TF.js, no Node.
 *
 * Geometry is in CSS pixels (96 per inch), the width set by the spec (a journal column). Every column is
 * `cell` wide; each row keeps its photo's aspect ratio: a landscape row is `cell` wide and shorter, a
 * portrait row `cell` tall and narrower (centred in its column), so no photo is squashed. Boxes are whole
 * pixels, so at PNG scale s (1, 2, 4) every cell is exactly `s` raster pixels per CSS pixel: cells are
 * rendered at that size and embedded 1:1, and only the text is left to the rasteriser.
 */
import { colorize, colormapLut, gradientStops, type ColormapId } from '../shared/colormap';
import { figureWidthMm, mmToPx, type FigureSpec } from './spec';

/** One row of the grid: where it is and the box its images fill inside each column. */
export interface FigureRowBox {
  /** y of the row's top edge. */
  y: number;
  height: number;
  /** Offset of the images from their column's left edge (portrait rows are centred). */
  imageX: number;
  imageWidth: number;
  /** The row label, on one line or broken in two at " · " when one line is longer than the row. */
  labelLines: string[];
}

/** What the layout needs of a row: its photo's aspect ratio (width / height) and its label. */
export interface FigureRowShape {
  aspect: number;
  label: string;
}

export interface FigureLayout {
  width: number;
  height: number;
  /** Width of a column (and the height of a square or portrait row). */
  cell: number;
  gap: number;
  margin: number;
  /** x of each column's left edge (input column first when shown). */
  columnX: number[];
  rows: FigureRowBox[];
  /** Height of the column-title band (0 without titles). */
  titleHeight: number;
  /** Width of the row-label band (0 without row labels). */
  rowLabelWidth: number;
  colorBar: { x: number; y: number; width: number; height: number } | null;
  fontSize: number;
}

export class FigureLayoutError extends Error {
  override name = 'FigureLayoutError';
}

/** A generous estimate of a line's width in the figure's sans-serif font (DejaVu Sans averages ~0.55 em). */
export function estimatedTextWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** The image box of a row `cell` wide at most and `cell` tall at most, at the photo's aspect ratio. */
function rowImageBox(aspect: number, cell: number): { width: number; height: number } {
  const safe = Number.isFinite(aspect) && aspect > 0 ? aspect : 1;
  if (safe >= 1) return { width: cell, height: Math.max(8, Math.round(cell / safe)) };
  return { width: Math.max(8, Math.round(cell * safe)), height: cell };
}

/** A row label as lines that fit the row's height, broken at " · " (image · class) when one line does not. */
function labelLines(label: string, rowHeight: number, fontSize: number): string[] {
  if (estimatedTextWidth(label, fontSize) <= rowHeight) return [label];
  const at = label.indexOf(' · ');
  return at < 0 ? [label] : [label.slice(0, at), label.slice(at + 3)];
}

/** The grid of `rows` x `columns` cells (input column included in `columns`) in the spec's width. */
export function figureLayout(spec: FigureSpec, rows: readonly FigureRowShape[], columns: number): FigureLayout {
  if (rows.length < 1 || columns < 1) throw new FigureLayoutError('A figure needs at least one image and one column.');
  const width = Math.round(mmToPx(figureWidthMm(spec)));
  const fontSize = spec.fontSize;
  const margin = 4;
  const gap = spec.gap;
  const titleHeight = spec.columnTitles ? Math.ceil(fontSize * 1.6) : 0;
  // Row labels take one text line, or two when a label has to break to fit its row. The cell width
  // depends on the band and the break on the cell: decide with the one-line band, which is the wider cell.
  const oneLineBand = Math.ceil(fontSize * 1.7);
  const barThickness = Math.max(6, Math.round(fontSize * 0.8));
  const barLabels = Math.ceil(fontSize * 2.4);
  const colorBarWidth = spec.colorBar ? gap + barThickness + 3 + barLabels : 0;
  const cellFor = (band: number): number => Math.floor((width - 2 * margin - band - colorBarWidth - gap * (columns - 1)) / columns);
  let rowLabelWidth = spec.rowLabels ? oneLineBand : 0;
  let cell = cellFor(rowLabelWidth);
  const lines = rows.map((row) => (spec.rowLabels ? labelLines(row.label, rowImageBox(row.aspect, cell).height, fontSize) : []));
  if (lines.some((label) => label.length > 1)) {
    rowLabelWidth = Math.ceil(fontSize * 2.9);
    cell = cellFor(rowLabelWidth);
  }
  if (cell < 16)
    throw new FigureLayoutError(
      `${columns} columns do not fit in ${figureWidthMm(spec)} mm (cells would be ${cell} px): choose fewer columns or a wider figure.`,
    );
  const left = margin + rowLabelWidth;
  const top = margin + titleHeight;
  const columnX = Array.from({ length: columns }, (_, c) => left + c * (cell + gap));
  let y = top;
  const boxes = rows.map((row, r): FigureRowBox => {
    const image = rowImageBox(row.aspect, cell);
    const box = { y, height: image.height, imageX: Math.floor((cell - image.width) / 2), imageWidth: image.width, labelLines: lines[r]! };
    y += image.height + gap;
    return box;
  });
  const gridHeight = y - gap - top;
  const height = top + gridHeight + margin;
  const colorBar = spec.colorBar ? { x: columnX[columns - 1]! + cell + gap, y: top, width: barThickness, height: gridHeight } : null;
  return { width, height, cell, gap, margin, columnX, rows: boxes, titleHeight, rowLabelWidth, colorBar, fontSize };
}

/**
 * One heatmap cell's pixels: the image with the map over it, `out = (1 - a) image + a colour(map)`.
 * @param image RGBA, `size * size * 4` (alpha ignored)
 * @param map normalised map in [0, 1], `size * size` row-major (NaN: image only)
 */
export function overlayPixels(image: Uint8ClampedArray, map: Float32Array, colormap: ColormapId, opacity: number): Uint8ClampedArray {
  if (image.length !== map.length * 4)
    throw new FigureLayoutError(`overlayPixels: image has ${image.length / 4} pixels, map ${map.length}`);
  const colors = colorize(map, colormapLut(colormap));
  const out = new Uint8ClampedArray(image.length);
  const a = Math.max(0, Math.min(1, opacity));
  for (let p = 0; p < map.length; p += 1) {
    const o = p * 4;
    const alpha = colors[o + 3] === 0 ? 0 : a;
    out[o] = Math.round((1 - alpha) * image[o]! + alpha * colors[o]!);
    out[o + 1] = Math.round((1 - alpha) * image[o + 1]! + alpha * colors[o + 1]!);
    out[o + 2] = Math.round((1 - alpha) * image[o + 2]! + alpha * colors[o + 2]!);
    out[o + 3] = 255;
  }
  return out;
}

/** Escapes text for XML content and attributes (file and class names are user data). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface FigureContent {
  /** Column titles, left to right (input column included when shown). */
  columnTitles: string[];
  /** `cells[row][column]`: an image URL (a `data:image/png;base64,...` when the SVG must stand alone). */
  cells: string[][];
}

const FONT_FAMILY = 'DejaVu Sans, Arial, Helvetica, sans-serif';
const round = (value: number): number => Math.round(value * 100) / 100;

/**
 * The figure as a standalone SVG document: white background, column titles, rotated row labels, the cells
 * as embedded rasters, and a vertical colour bar (normalised map value, 0 at the bottom, 1 at the top).
 */
export function figureSvg(spec: FigureSpec, layout: FigureLayout, content: FigureContent): string {
  const { width, height, cell, fontSize } = layout;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<g font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="#111111">`);
  if (layout.titleHeight > 0) {
    layout.columnX.forEach((x, c) => {
      const title = content.columnTitles[c] ?? '';
      parts.push(
        `<text x="${round(x + cell / 2)}" y="${round(layout.margin + layout.titleHeight - fontSize * 0.45)}" text-anchor="middle">${escapeXml(title)}</text>`,
      );
    });
  }
  if (layout.rowLabelWidth > 0) {
    const lineHeight = fontSize * 1.15;
    layout.rows.forEach((row) => {
      // Rotated -90 degrees: the last line sits nearest the images; each line is centred on the row and
      // squeezed to the row's height only if the estimate says it would not fit.
      const cy = round(row.y + row.height / 2);
      row.labelLines.forEach((line, index) => {
        const fromImages = row.labelLines.length - 1 - index;
        const cx = round(layout.margin + layout.rowLabelWidth - fontSize * 0.45 - fromImages * lineHeight);
        const squeeze =
          estimatedTextWidth(line, fontSize) > row.height ? ` textLength="${row.height}" lengthAdjust="spacingAndGlyphs"` : '';
        parts.push(
          `<text x="${cx}" y="${cy}" text-anchor="middle"${squeeze} transform="rotate(-90 ${cx} ${cy})">${escapeXml(line)}</text>`,
        );
      });
    });
  }
  layout.rows.forEach((row, r) => {
    layout.columnX.forEach((x, c) => {
      const href = content.cells[r]?.[c];
      if (href === undefined) return;
      parts.push(
        `<image x="${x + row.imageX}" y="${row.y}" width="${row.imageWidth}" height="${row.height}" preserveAspectRatio="none" href="${escapeXml(href)}"/>`,
      );
    });
  });
  if (layout.colorBar !== null) {
    const bar = layout.colorBar;
    const stops = gradientStops(spec.colormap, 17)
      .map((stop) => `<stop offset="${round(stop.offset)}" stop-color="${stop.color}"/>`)
      .join('');
    parts.push(`<defs><linearGradient id="figure-colorbar" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`);
    parts.push(
      `<rect x="${bar.x}" y="${bar.y}" width="${bar.width}" height="${bar.height}" fill="url(#figure-colorbar)" stroke="#111111" stroke-width="0.5"/>`,
    );
    const labelX = bar.x + bar.width + 3;
    parts.push(`<text x="${labelX}" y="${round(bar.y + fontSize * 0.8)}">1</text>`);
    parts.push(`<text x="${labelX}" y="${round(bar.y + bar.height)}">0</text>`);
  }
  parts.push('</g></svg>');
  return parts.join('\n');
}
