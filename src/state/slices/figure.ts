/**
 * The figure builder's state (issue #6, publication figures): the figure's settings (a FigureSpec, saved
 * and loaded as JSON and read by `npm run figure`), its images, and the explained rows. Rows are explained
 * in the worker one image at a time (progress, cancel); they are kept per image for the cells they were
 * made for, so changing only the look (colour map, opacity, gaps, width, titles) redraws without the
 * engine, and adding an image explains only that image.
 */
import { formatDetectionRule } from '../../shared/detection';
import { DEFAULT_FIGURE_SPEC, FigureSpecError, figureColumns, parseFigureSpec, type FigureSpec } from '../../figure/spec';
import { isCancelled, toUiError } from '../errors';
import { cancelRunning, type StoreRequests } from '../latest';
import { currentCatalogId, figureCellsKey, figureDetection } from '../selectors';
import { resolveUrl } from '../startup';
import type { FigureImage, FigureSlice, Slice, StudioDeps } from '../types';

const uniqueName = (name: string, taken: readonly FigureImage[]): string => {
  if (!taken.some((image) => image.name === name)) return name;
  for (let n = 2; ; n += 1) {
    const candidate = name.replace(/(\.[^.]*)?$/, ` (${n})$1`);
    if (!taken.some((image) => image.name === candidate)) return candidate;
  }
};

/** A figure with no images, rows or progress (the start, and after loading other settings). */
const noFigure = (): Pick<
  FigureSlice,
  'figureImages' | 'figureRows' | 'figureFailures' | 'figureStatus' | 'figureProgress' | 'figureMissing'
> => ({
  figureImages: [],
  figureRows: {},
  figureFailures: {},
  figureStatus: 'idle',
  figureProgress: null,
  figureMissing: [],
});

export function figureSlice(deps: Pick<StudioDeps, 'engine' | 'fetch' | 'baseUrl'>, requests: StoreRequests): Slice<FigureSlice> {
  return (set, get) => ({
    figureSpec: { ...DEFAULT_FIGURE_SPEC },
    ...noFigure(),
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
        set({
          lastError: {
            code: 'no-methods',
            message: 'Choose at least one method (and, for label columns, one label).',
            context: 'Building the figure',
          },
        });
        return;
      }
      const key = figureCellsKey(state);
      const todo = state.figureImages.filter((image) => state.figureRows[image.name]?.key !== key);
      const signal = requests.figure.begin();
      set({ figureStatus: 'busy', figureProgress: { done: 0, total: todo.length }, figureFailures: {} });
      const detection = figureDetection(state);
      for (const [index, image] of todo.entries()) {
        try {
          const row = await deps.engine.explainFigureRow(image.blob, { cells: columns, ...(detection === null ? {} : { detection }) });
          if (signal.aborted) return;
          set({ figureRows: { ...get().figureRows, [image.name]: { key, row } } });
        } catch (error) {
          if (signal.aborted) return;
          if (isCancelled(error)) {
            set({ figureStatus: 'cancelled', figureProgress: null });
            return;
          }
          set({ figureFailures: { ...get().figureFailures, [image.name]: toUiError(error, image.name).message } });
        }
        set({ figureProgress: { done: index + 1, total: todo.length } });
      }
      if (!signal.aborted) set({ figureStatus: 'done', figureProgress: null });
    },
    cancelFigure: async () => {
      if (get().figureStatus !== 'busy') return;
      requests.figure.abort();
      set({ figureStatus: 'cancelled', figureProgress: null });
      await cancelRunning(deps.engine, (lastError) => set({ lastError }), 'Cancelling the figure');
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
        const message =
          error instanceof FigureSpecError
            ? error.message
            : `This is not a figure settings file (${error instanceof Error ? error.message : String(error)}).`;
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
      requests.figure.abort();
      set({ figureSpec: { ...spec, images: [] }, ...noFigure() });
      const missing: string[] = [];
      for (const ref of spec.images) {
        if (ref.src !== undefined && ref.src.startsWith('samples/'))
          await get().addFigureSample(ref.src.slice('samples/'.length), ref.name);
        else missing.push(ref.name);
      }
      set({ figureMissing: missing });
    },
  });
}
