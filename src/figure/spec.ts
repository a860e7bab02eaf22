/**
 * A publication figure's settings (issue #6): which images, methods and labels, and how the grid looks.
 * Saved as JSON by the studio's figure builder and read by `npm run figure`, so the same figure can be
 * regenerated later. Pure data and validation: no DOM, no TF.js.
 */
import { COLORMAP_IDS, DEFAULT_COLORMAP, type ColormapId } from '../shared/colormap';
import { parseDetectionRule } from '../shared/detection';
import { isMethodId, type MethodId } from '../shared/methods';

export const FIGURE_SPEC_VERSION = 1;

/** Journal column widths (85 mm and 174 mm, the common one- and two-column sizes) and a free width. */
export const FIGURE_WIDTHS = { single: 85, double: 174 } as const;
export type FigureWidth = keyof typeof FIGURE_WIDTHS | 'custom';

/** PNG scales offered: 1x is 96 dpi (CSS pixels), 4x about 384 dpi. */
export const PNG_SCALES = [1, 2, 4] as const;
export type PngScale = (typeof PNG_SCALES)[number];

export interface FigureImageRef {
  /** The file name, shown as the row label and used to find the file again (`npm run figure --images DIR`). */
  name: string;
  /** For bundled samples: the studio-relative path (e.g. `samples/shapes/scene-00.png`); the CLI reads it from public/. */
  src?: string;
}

export interface FigureSpec {
  version: typeof FIGURE_SPEC_VERSION;
  /** The model's folder under models/ (catalog id), e.g. `shapes-resnet`. */
  model: string;
  /** Rows of the grid, top to bottom. */
  images: FigureImageRef[];
  /**
   * 'methods': one column per method, every cell for the same label of its row (`label`);
   * 'labels': one column per label (`labels`), every cell by `methods[0]`.
   */
  columns: 'methods' | 'labels';
  methods: MethodId[];
  /** With columns = 'methods': 'top' (each image's highest-scoring class) or a class index. */
  label: 'top' | number;
  /** With columns = 'labels': the class indices, left to right. */
  labels: number[];
  /** A first column with the plain input image. */
  showInput: boolean;
  columnTitles: boolean;
  rowLabels: boolean;
  colorBar: boolean;
  colormap: ColormapId;
  /** Heatmap opacity over the image, 0 to 1. */
  opacity: number;
  /** Gap between cells, in CSS px. */
  gap: number;
  /** The figure's width: a journal column, or `customWidthMm`. */
  width: FigureWidth;
  customWidthMm: number;
  /** Title font size in CSS px. */
  fontSize: number;
  /**
   * The detected set C_x the MinMax methods contrast with, in the command line's notation (`sigmoid:0.5`,
   * `prob:0.2`, `topk:3`, `gt:1,4`); null: the model head's default.
   */
  detection: string | null;
}

export const DEFAULT_FIGURE_SPEC: FigureSpec = {
  version: FIGURE_SPEC_VERSION,
  model: 'shapes-resnet',
  images: [],
  columns: 'methods',
  methods: ['cam', 'gradcam', 'minmax-cam'],
  label: 'top',
  labels: [],
  showInput: true,
  columnTitles: true,
  rowLabels: false,
  colorBar: true,
  colormap: DEFAULT_COLORMAP,
  opacity: 0.5,
  gap: 4,
  width: 'double',
  customWidthMm: 120,
  fontSize: 11,
  detection: null,
};

/** The figure's width in mm. */
export function figureWidthMm(spec: Pick<FigureSpec, 'width' | 'customWidthMm'>): number {
  return spec.width === 'custom' ? spec.customWidthMm : FIGURE_WIDTHS[spec.width];
}

/** Millimetres to CSS pixels (96 per inch). */
export const mmToPx = (mm: number): number => (mm * 96) / 25.4;

/** The method (or label) of each heatmap column, left to right (the input column excluded). */
export function figureColumns(spec: FigureSpec): Array<{ method: MethodId; label: number | 'top' }> {
  if (spec.columns === 'methods') return spec.methods.map((method) => ({ method, label: spec.label }));
  const method = spec.methods[0];
  return method === undefined ? [] : spec.labels.map((label) => ({ method, label }));
}

export class FigureSpecError extends Error {
  override name = 'FigureSpecError';
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates a parsed JSON value as a figure spec: missing fields take the defaults, wrong ones throw a
 * {@link FigureSpecError} naming the field. Class indices are checked against `numClasses` when given.
 */
export function parseFigureSpec(value: unknown, numClasses?: number): FigureSpec {
  if (!isObject(value)) throw new FigureSpecError('A figure settings file is a JSON object.');
  if (value['version'] !== undefined && value['version'] !== FIGURE_SPEC_VERSION) {
    throw new FigureSpecError(
      `Figure settings version ${String(value['version'])} is not supported (this studio reads version ${FIGURE_SPEC_VERSION}).`,
    );
  }
  const spec: FigureSpec = { ...DEFAULT_FIGURE_SPEC, images: [], methods: [...DEFAULT_FIGURE_SPEC.methods], labels: [] };
  const fail = (field: string, expected: string): never => {
    throw new FigureSpecError(`Figure settings: "${field}" must be ${expected}.`);
  };
  const number = (field: keyof FigureSpec, min: number, max: number): void => {
    const v = value[field];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(field, `a number from ${min} to ${max}`);
    (spec as unknown as Record<string, unknown>)[field] = v;
  };
  const flag = (field: keyof FigureSpec): void => {
    const v = value[field];
    if (v === undefined) return;
    if (typeof v !== 'boolean') fail(field, 'true or false');
    (spec as unknown as Record<string, unknown>)[field] = v;
  };
  const classIndex = (v: unknown, field: string): number => {
    const ok = typeof v === 'number' && Number.isInteger(v) && v >= 0 && (numClasses === undefined || v < numClasses);
    if (!ok) fail(field, numClasses === undefined ? 'a class index (an integer from 0)' : `a class index from 0 to ${numClasses - 1}`);
    return v as number;
  };

  if (value['model'] !== undefined) {
    if (typeof value['model'] !== 'string' || !/^[\w.-]+$/.test(value['model']))
      fail('model', 'a model folder name (letters, digits, . _ -)');
    spec.model = value['model'] as string;
  }
  if (value['images'] !== undefined) {
    if (!Array.isArray(value['images'])) fail('images', 'a list of { name, src? }');
    spec.images = (value['images'] as unknown[]).map((item, i) => {
      if (!isObject(item) || typeof item['name'] !== 'string' || item['name'] === '')
        fail(`images[${i}]`, 'an object with a non-empty "name"');
      const ref = item as Record<string, unknown>;
      if (ref['src'] !== undefined && (typeof ref['src'] !== 'string' || ref['src'].includes('..') || /^[a-z]+:/i.test(ref['src']))) {
        fail(`images[${i}].src`, 'a studio-relative path without ".." or a scheme');
      }
      return ref['src'] === undefined ? { name: ref['name'] as string } : { name: ref['name'] as string, src: ref['src'] as string };
    });
  }
  if (value['columns'] !== undefined) {
    if (value['columns'] !== 'methods' && value['columns'] !== 'labels') fail('columns', '"methods" or "labels"');
    spec.columns = value['columns'] as FigureSpec['columns'];
  }
  if (value['methods'] !== undefined) {
    const methods = value['methods'];
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string' && isMethodId(m)))
      fail('methods', 'a non-empty list of method ids');
    spec.methods = [...new Set(methods as MethodId[])];
  }
  if (value['label'] !== undefined) spec.label = value['label'] === 'top' ? 'top' : classIndex(value['label'], 'label');
  if (value['labels'] !== undefined) {
    if (!Array.isArray(value['labels'])) fail('labels', 'a list of class indices');
    spec.labels = [...new Set((value['labels'] as unknown[]).map((v, i) => classIndex(v, `labels[${i}]`)))];
  }
  flag('showInput');
  flag('columnTitles');
  flag('rowLabels');
  flag('colorBar');
  if (value['colormap'] !== undefined) {
    if (typeof value['colormap'] !== 'string' || !(COLORMAP_IDS as readonly string[]).includes(value['colormap']))
      fail('colormap', `one of ${COLORMAP_IDS.join(', ')}`);
    spec.colormap = value['colormap'] as ColormapId;
  }
  number('opacity', 0, 1);
  number('gap', 0, 40);
  number('customWidthMm', 30, 400);
  number('fontSize', 6, 32);
  if (value['width'] !== undefined) {
    if (value['width'] !== 'single' && value['width'] !== 'double' && value['width'] !== 'custom')
      fail('width', '"single", "double" or "custom"');
    spec.width = value['width'] as FigureWidth;
  }
  if (value['detection'] !== undefined && value['detection'] !== null) {
    if (typeof value['detection'] !== 'string')
      fail('detection', 'a rule such as "sigmoid:0.5", "prob:0.2", "topk:3" or "gt:1,4", or null');
    try {
      parseDetectionRule(value['detection'] as string);
    } catch (error) {
      throw new FigureSpecError(`Figure settings: "detection": ${(error as Error).message}`);
    }
    spec.detection = value['detection'] as string;
  }
  if (spec.columns === 'labels' && spec.labels.length === 0) fail('labels', 'at least one class index when the columns are labels');
  return spec;
}
