/**
 * The figure builder's state (issue #6, publication figures): the figure's settings (a FigureSpec, saved
 * and loaded as JSON and read by `npm run figure`), its images, and the explained rows. Rows are explained
 * in the worker one image at a time (progress, cancel); they are kept per image for the cells they were
 * made for, so changing only the look (colour map, opacity, gaps, width, titles) redraws without the
 * engine, and adding an image explains only that image.
 */
import type { StateCreator } from 'zustand/vanilla';
import { formatDetectionRule, parseDetectionRule, type DetectionRule } from '../core/detection';
import { DEFAULT_FIGURE_SPEC, FigureSpecError, figureColumns, parseFigureSpec, type FigureSpec } from '../figure/spec';
import type { EngineApi, FigureRowResult } from '../worker/protocol';
import { isCancelled, toUiError } from './errors';
import { resolveUrl } from './startup';
import type { FetchResponseLike, StudioState } from './store';

export interface FigureImage {
  name: string;
  blob: Blob;
  /** Studio-relative path of a bundled sample (kept in the saved settings, so the CLI finds it). */
  src?: string;
}

export type FigureStatus = 'idle' | 'busy' | 'done' | 'cancelled';

export interface FigureSlice {
  figureSpec: FigureSpec;
  figureImages: FigureImage[];
  /** Explained rows by image name, each for the cells of `figureCellsKey` at the time. */
  figureRows: Record<string, { key: string; row: FigureRowResult }>;
  figureFailures: Record<string, string>;
  figureStatus: FigureStatus;
  figureProgress: { done: number; total: number } | null;
  /** Images named by loaded settings that are not here yet (the user adds them by file). */
  figureMissing: string[];
  setFigureSpec(patch: Partial<FigureSpec>): void;
  addFigureImages(images: FigureImage[]): void;
  /** Fetches a bundled sample (`samples/<file>`) into the figure, as `name` (default: its file name). */
  addFigureSample(file: string, name?: string): Promise<void>;
  removeFigureImage(name: string): void;
  moveFigureImage(name: string, delta: -1 | 1): void;
  /** Explains every image whose row is missing or stale; the studio keeps working meanwhile. */
  buildFigure(): Promise<void>;
  cancelFigure(): Promise<void>;
  /** The settings as JSON, with the current model's catalog id. */
  figureSpecJson(): string;
  /** Reads saved settings: loads their model from the catalog when it differs, fetches sample images. */
  loadFigureSpec(text: string): Promise<void>;
}

export interface FigureDeps {
  engine: EngineApi;
  fetch: (url: string) => Promise<FetchResponseLike>;
  baseUrl: string;
}

/** The figure's detected-set rule: its own (from loaded settings), else the studio's, else the head's default (null). */
export function figureDetection(state: Pick<StudioState, 'figureSpec' | 'detection'>): DetectionRule | null {
  return state.figureSpec.detection !== null ? parseDetectionRule(state.figureSpec.detection) : state.detection;
}

/** What a row's cells depend on: the model load, the columns and the detection rule. */
export function figureCellsKey(state: Pick<StudioState, 'figureSpec' | 'model' | 'detection'>): string {
  return JSON.stringify([state.model?.loadId ?? null, figureColumns(state.figureSpec), figureDetection(state)]);
}

/** The catalog id of the loaded model, if it came from the catalog. */
export function currentCatalogId(state: Pick<StudioState, 'catalog' | 'model'>, baseUrl: string): string | null {
  const source = state.model?.source;
  if (source === undefined) return null;
  return state.catalog.find((entry) => resolveUrl(entry.url, baseUrl) === source)?.id ?? null;
}

const uniqueName = (name: string, taken: readonly FigureImage[]): string => {
  if (!taken.some((image) => image.name === name)) return name;
  for (let n = 2; ; n += 1) {
    const candidate = name.replace(/(\.[^.]*)?$/, ` (${n})$1`);
    if (!taken.some((image) => image.name === candidate)) return candidate;
  }
};

export function figureSlice(deps: FigureDeps): StateCreator<StudioState, [], [], FigureSlice> {
  let sequence = 0;
  return (set, get) => ({
    figureSpec: { ...DEFAULT_FIGURE_SPEC },
    figureImages: [],
    figureRows: {},
    figureFailures: {},
    figureStatus: 'idle',
    figureProgress: null,
    figureMissing: [],
    setFigureSpec: (patch) => set({ figureSpec: { ...get().figureSpec, ...patch } }),
    addFigureImages: (images) => {
      const current = [...get().figureImages];
      for (const image of images) current.push({ ...image, name: uniqueName(image.name, current) });
      const names = new Set(current.map((image) => image.name));
      set({ figureImages: current, figureMissing: get().figureMissing.filter((name) => !names.has(name)) });
    },
    addFigureSample: async (file, name) => {
      const src = `samples/${file}`;
      try {
        const response = await deps.fetch(resolveUrl(src.split('/').map(encodeURIComponent).join('/'), deps.baseUrl));
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
        const blob = await response.blob();
        get().addFigureImages([{ name: name ?? file.split('/').pop() ?? file, blob, src }]);
      } catch (error) {
        set({ lastError: toUiError(error, `Adding the sample ${file} to the figure`) });
      }
    },
    removeFigureImage: (name) => {
      const { [name]: _row, ...rows } = get().figureRows;
      const { [name]: _failure, ...failures } = get().figureFailures;
      set({ figureImages: get().figureImages.filter((image) => image.name !== name), figureRows: rows, figureFailures: failures });
    },
    moveFigureImage: (name, delta) => {
      const images = [...get().figureImages];
      const from = images.findIndex((image) => image.name === name);
      const to = from + delta;
      if (from < 0 || to < 0 || to >= images.length) return;
      const [moved] = images.splice(from, 1);
      images.splice(to, 0, moved!);
      set({ figureImages: images });
    },
    buildFigure: async () => {
      const state = get();
      if (state.model === null) {
        set({ lastError: { code: 'no-model', message: 'Load a model before building a figure.', context: 'Building the figure' } });
        return;
      }
      const columns = figureColumns(state.figureSpec);
      if (columns.length === 0) {
        set({ lastError: { code: 'no-methods', message: 'Choose at least one method (and, for label columns, one label).', context: 'Building the figure' } });
        return;
      }
      const key = figureCellsKey(state);
      const todo = state.figureImages.filter((image) => state.figureRows[image.name]?.key !== key);
      const id = ++sequence;
      set({ figureStatus: 'busy', figureProgress: { done: 0, total: todo.length }, figureFailures: {} });
      const detection = figureDetection(state);
      for (const [index, image] of todo.entries()) {
        try {
          const row = await deps.engine.explainFigureRow(image.blob, { cells: columns, ...(detection === null ? {} : { detection }) });
          if (id !== sequence) return;
          set({ figureRows: { ...get().figureRows, [image.name]: { key, row } } });
        } catch (error) {
          if (id !== sequence) return;
          if (isCancelled(error)) {
            set({ figureStatus: 'cancelled', figureProgress: null });
            return;
          }
          set({ figureFailures: { ...get().figureFailures, [image.name]: toUiError(error, image.name).message } });
        }
        set({ figureProgress: { done: index + 1, total: todo.length } });
      }
      if (id === sequence) set({ figureStatus: 'done', figureProgress: null });
    },
    cancelFigure: async () => {
      if (get().figureStatus !== 'busy') return;
      sequence += 1;
      set({ figureStatus: 'cancelled', figureProgress: null });
      try {
        await deps.engine.cancel();
      } catch (error) {
        if (!isCancelled(error)) set({ lastError: toUiError(error, 'Cancelling the figure') });
      }
    },
    figureSpecJson: () => {
      const state = get();
      const spec: FigureSpec = {
        ...state.figureSpec,
        model: currentCatalogId(state, deps.baseUrl) ?? state.figureSpec.model,
        detection: (() => {
          const rule = figureDetection(state);
          return rule === null ? null : formatDetectionRule(rule);
        })(),
        images: state.figureImages.map((image) => (image.src === undefined ? { name: image.name } : { name: image.name, src: image.src })),
      };
      return `${JSON.stringify(spec, null, 2)}\n`;
    },
    loadFigureSpec: async (text) => {
      let spec: FigureSpec;
      try {
        spec = parseFigureSpec(JSON.parse(text) as unknown);
      } catch (error) {
        const message = error instanceof FigureSpecError ? error.message : `This is not a figure settings file (${error instanceof Error ? error.message : String(error)}).`;
        set({ lastError: { code: 'figure-settings', message, context: 'Loading figure settings' } });
        return;
      }
      const state = get();
      const entry = state.catalog.find((candidate) => candidate.id === spec.model);
      if (entry !== undefined && currentCatalogId(state, deps.baseUrl) !== spec.model) await get().loadModelFromUrl(entry.url, entry.name);
      const numClasses = get().model?.numClasses;
      if (numClasses !== undefined) {
        try {
          parseFigureSpec(JSON.parse(text) as unknown, numClasses);
        } catch (error) {
          set({ lastError: { code: 'figure-settings', message: (error as Error).message, context: 'Loading figure settings' } });
          return;
        }
      }
      sequence += 1;
      set({ figureSpec: { ...spec, images: [] }, figureImages: [], figureRows: {}, figureFailures: {}, figureStatus: 'idle', figureProgress: null, figureMissing: [] });
      const missing: string[] = [];
      for (const ref of spec.images) {
        if (ref.src !== undefined && ref.src.startsWith('samples/')) await get().addFigureSample(ref.src.slice('samples/'.length), ref.name);
        else missing.push(ref.name);
      }
      set({ figureMissing: missing });
    },
  });
}
