/**
 * A publication figure's settings (issue #6): which images, methods and labels, and how the grid looks.
 * Saved as JSON by the studio's figure builder and read by `npm run figure`, so the same figure can be
 * regenerated later. Pure data and validation (a valibot schema, with the shared field schemas): no DOM, no TF.js.
 */
import * as v from 'valibot';
import { COLORMAP_IDS, DEFAULT_COLORMAP, type ColormapId } from '../shared/colormap';
import { parseDetectionRule } from '../shared/detection';
import { isMethodId, type MethodId } from '../shared/methods';
import { choiceField, numberField } from '../shared/schema';

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
  rowLabels: true,
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

/** A class index, checked against the model's classes when they are known. */
function classIndex(numClasses: number | undefined): v.GenericSchema<unknown, number> {
  const allowed = numClasses === undefined ? 'a class index (an integer from 0)' : `a class index from 0 to ${numClasses - 1}`;
  const base = v.pipe(v.number(allowed), v.integer(allowed), v.minValue(0, allowed));
  return (numClasses === undefined ? base : v.pipe(base, v.maxValue(numClasses - 1, allowed))) as v.GenericSchema<unknown, number>;
}

const safeSrc = (src: string): boolean => !src.includes('..') && !/^[a-z]+:/i.test(src);
const flag = v.boolean('true or false');
const range = (min: number, max: number) => numberField(min, max).schema;

/** The schema of a saved figure (every field optional: missing ones take the defaults). */
function figureSpecSchema(numClasses: number | undefined) {
  const methodsAllowed = 'a non-empty list of method ids';
  return v.object({
    version: v.exactOptional(v.literal(FIGURE_SPEC_VERSION)),
    model: v.exactOptional(
      v.pipe(
        v.string('a model folder name (letters, digits, . _ -)'),
        v.regex(/^[\w.-]+$/, 'a model folder name (letters, digits, . _ -)'),
      ),
    ),
    images: v.exactOptional(
      v.array(
        v.object(
          {
            name: v.pipe(v.string('an object with a non-empty "name"'), v.minLength(1, 'an object with a non-empty "name"')),
            src: v.exactOptional(
              v.pipe(
                v.string('a studio-relative path without ".." or a scheme'),
                v.check(safeSrc, 'a studio-relative path without ".." or a scheme'),
              ),
            ),
          },
          'an object with a non-empty "name"',
        ),
        'a list of { name, src? }',
      ),
    ),
    columns: v.exactOptional(v.picklist(['methods', 'labels'], '"methods" or "labels"')),
    methods: v.exactOptional(
      v.pipe(
        v.array(v.string(methodsAllowed), methodsAllowed),
        v.check((methods) => methods.length > 0 && methods.every(isMethodId), methodsAllowed),
      ),
    ),
    label: v.exactOptional(
      v.union(
        [v.literal('top'), classIndex(numClasses)],
        `"top" or ${numClasses === undefined ? 'a class index' : `a class index from 0 to ${numClasses - 1}`}`,
      ),
    ),
    labels: v.exactOptional(v.array(classIndex(numClasses), 'a list of class indices')),
    showInput: v.exactOptional(flag),
    columnTitles: v.exactOptional(flag),
    rowLabels: v.exactOptional(flag),
    colorBar: v.exactOptional(flag),
    colormap: v.exactOptional(choiceField(COLORMAP_IDS).schema),
    opacity: v.exactOptional(range(0, 1)),
    gap: v.exactOptional(range(0, 40)),
    width: v.exactOptional(v.picklist(['single', 'double', 'custom'], '"single", "double" or "custom"')),
    customWidthMm: v.exactOptional(range(30, 400)),
    fontSize: v.exactOptional(range(6, 32)),
    detection: v.exactOptional(
      v.nullable(
        v.pipe(
          v.string('a rule such as "sigmoid:0.5", "prob:0.2", "topk:3" or "gt:1,4", or null'),
          v.check((text) => {
            try {
              parseDetectionRule(text);
              return true;
            } catch {
              return false;
            }
          }, 'a rule such as "sigmoid:0.5", "prob:0.2", "topk:3" or "gt:1,4" (sigmoid:T, prob:T with 0 <= T <= 1, topk:K with K >= 1, gt:N,N), or null'),
        ),
      ),
    ),
  });
}

/** `images.0.src` -> `images[0].src`. */
const fieldName = (issue: v.BaseIssue<unknown>): string =>
  (issue.path ?? []).reduce<string>(
    (name, item) =>
      typeof item.key === 'number' ? `${name}[${item.key}]` : name === '' ? String(item.key) : `${name}.${String(item.key)}`,
    '',
  );

/**
 * Validates a parsed JSON value as a figure spec: missing fields take the defaults, wrong ones throw a
 * {@link FigureSpecError} naming each field and what it must be. Class indices are checked against
 * `numClasses` when given.
 */
export function parseFigureSpec(value: unknown, numClasses?: number): FigureSpec {
  if (!isObject(value)) throw new FigureSpecError('A figure settings file is a JSON object.');
  if (value['version'] !== undefined && value['version'] !== FIGURE_SPEC_VERSION) {
    throw new FigureSpecError(
      `Figure settings version ${String(value['version'])} is not supported (this studio reads version ${FIGURE_SPEC_VERSION}).`,
    );
  }
  const result = v.safeParse(figureSpecSchema(numClasses), value);
  if (!result.success) {
    throw new FigureSpecError(
      `Figure settings: ${result.issues.map((issue) => `"${fieldName(issue)}" must be ${issue.message}`).join('; ')}.`,
    );
  }
  const parsed = result.output;
  const spec: FigureSpec = {
    ...DEFAULT_FIGURE_SPEC,
    ...(parsed as Partial<FigureSpec>),
    version: FIGURE_SPEC_VERSION,
    images: (parsed.images ?? []).map((ref) => (ref.src === undefined ? { name: ref.name } : { name: ref.name, src: ref.src })),
    methods: [...new Set((parsed.methods as MethodId[] | undefined) ?? DEFAULT_FIGURE_SPEC.methods)],
    labels: [...new Set(parsed.labels ?? [])],
  };
  if (spec.columns === 'labels' && spec.labels.length === 0)
    throw new FigureSpecError('Figure settings: "labels" must be at least one class index when the columns are labels.');
  return spec;
}
