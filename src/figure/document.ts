/**
 * Explained rows -> the figure's SVG document, at a given raster scale. The one assembly step both the
 * studio's figure builder and `npm run figure` run, so their exports agree: only PNG encoding (canvas or
 * sharp) and SVG rasterisation (the browser or librsvg) differ. Pure apart from the encoder passed in.
 */
import type { MethodId } from '../shared/methods';
import { figureLayout, figureSvg, overlayPixels, type FigureLayout } from './render';
import { resizeBilinear, resizePixels } from '../shared/resample';
import { figureColumns, type FigureSpec } from './spec';

/** One explained image: what the model saw (RGBA at its input size) and the maps of its cells, in column order. */
export interface FigureRowData {
  name: string;
  pixels: Uint8ClampedArray;
  pixelsShape: [number, number];
  /** Width / height of the part of the photo the model saw (shared/model-input.ts `cropAspect`): the row's shape. */
  aspect: number;
  top: { label: number; prob: number };
  cells: Array<{ method: MethodId; label: number; shape: [number, number]; normalized: Float32Array }>;
}

export interface FigureNames {
  labelName(label: number): string;
  methodTitle(method: MethodId): string;
}

/** RGBA pixels -> an image URL for the SVG (a `data:image/png;base64,...` for a standalone file). */
export type PngEncoder = (rgba: Uint8ClampedArray, width: number, height: number) => Promise<string>;

export interface FigureDocument {
  svg: string;
  layout: FigureLayout;
  /** Raster pixels per CSS pixel of the embedded cells (the PNG scale they were made for). */
  scale: number;
}

/** Column titles: 'Input', then the methods (or the labels). */
export function columnTitles(spec: FigureSpec, names: FigureNames): string[] {
  const titles = figureColumns(spec).map((column) =>
    spec.columns === 'methods' ? names.methodTitle(column.method) : names.labelName(column.label as number),
  );
  return spec.showInput ? ['Input', ...titles] : titles;
}

/** A row's label: the image name, and with method columns the class its cells explain. */
export function rowLabel(spec: FigureSpec, row: FigureRowData, names: FigureNames): string {
  const label = row.cells[0]?.label;
  return spec.columns === 'methods' && label !== undefined ? `${row.name} · ${names.labelName(label)}` : row.name;
}

/**
 * The whole figure at `scale`: each row's cells rendered at `scale` raster pixels per CSS pixel of its box,
 * the model's input and the maps stretched back to the photo's aspect ratio (a squashed input is unsquashed).
 */
export async function renderFigure(
  spec: FigureSpec,
  rows: readonly FigureRowData[],
  names: FigureNames,
  scale: number,
  encode: PngEncoder,
): Promise<FigureDocument> {
  const heatColumns = figureColumns(spec).length;
  const shapes = rows.map((row) => ({ aspect: row.aspect, label: rowLabel(spec, row, names) }));
  const layout = figureLayout(spec, shapes, heatColumns + (spec.showInput ? 1 : 0));
  const cells: string[][] = [];
  for (const [r, row] of rows.entries()) {
    const box = layout.rows[r]!;
    const outWidth = Math.round(box.imageWidth * scale);
    const outHeight = Math.round(box.height * scale);
    const [height, width] = row.pixelsShape;
    const image = resizePixels(row.pixels, height, width, outHeight, outWidth);
    const hrefs: string[] = [];
    if (spec.showInput) hrefs.push(await encode(image, outWidth, outHeight));
    for (const cell of row.cells.slice(0, heatColumns)) {
      const map = resizeBilinear(cell.normalized, cell.shape[0], cell.shape[1], outHeight, outWidth);
      hrefs.push(await encode(overlayPixels(image, map, spec.colormap, spec.opacity), outWidth, outHeight));
    }
    cells.push(hrefs);
  }
  const svg = figureSvg(spec, layout, { columnTitles: columnTitles(spec, names), cells });
  return { svg, layout, scale };
}
