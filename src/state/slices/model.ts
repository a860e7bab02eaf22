/**
 * The model: the catalog, loading (with progress) and configuring (target layer, preprocessing, resize
 * policy). A load that fails keeps the current model; a newer load supersedes an older one.
 */
import type { ModelSummary } from '../../shared/protocol';
import { toUiError } from '../errors';
import { settle, type StoreRequests } from '../latest';
import { nameFromUrl, resolveUrl } from '../startup';
import type { ModelSlice, Slice, StudioDeps } from '../types';
import { refreshImage } from './image';

export function modelSlice(deps: StudioDeps, requests: StoreRequests): Slice<ModelSlice> {
  /** The newest summary that loaded successfully but was superseded: adopted if its successor fails. */
  let supersededSuccess: ModelSummary | null = null;

  return (set, get) => ({
    modelSource: null,
    catalog: [],
    catalogStatus: 'idle',
    model: null,
    modelStatus: 'idle',
    pendingModelName: null,
    modelSourceName: null,
    modelLoadFailed: false,
    loadProgress: null,
    configuring: false,
    loadModel: async (source, name) => {
      const signal = requests.load.begin();
      const displayName = name ?? (source.kind === 'url' ? nameFromUrl(source.url) : 'local model');
      set({ modelStatus: 'loading', pendingModelName: displayName, loadProgress: null, modelLoadFailed: false });
      const outcome = await settle(
        signal,
        deps.engine.loadModel(source, (progress) => {
          if (!signal.aborted) set({ loadProgress: progress });
        }),
      );
      if (outcome.kind === 'stale') {
        // The worker holds this model now, unless a later load replaced it: remember it in case that one fails.
        const late = outcome.late;
        if (late !== undefined && (supersededSuccess === null || late.loadId > supersededSuccess.loadId)) supersededSuccess = late;
        return;
      }
      if (outcome.kind !== 'done') {
        let current = get().model;
        if (supersededSuccess && supersededSuccess.loadId > (current?.loadId ?? -Infinity)) {
          // A superseded load finished after the current model: the worker holds that one now.
          current = supersededSuccess;
          set({ model: current });
        }
        supersededSuccess = null;
        set({ modelStatus: current ? 'ready' : 'error', pendingModelName: null, loadProgress: null, modelLoadFailed: true });
        if (outcome.kind === 'failed') set({ lastError: toUiError(outcome.error, `Loading the model ${displayName}`) });
        return;
      }
      supersededSuccess = null;
      set({
        model: outcome.value,
        modelStatus: 'ready',
        pendingModelName: null,
        modelSourceName: displayName,
        modelSource: source,
        loadProgress: null,
        modelLoadFailed: false,
        selectedLabels: 'auto',
        // A rule chosen for the previous model (its classes, its head) does not carry over.
        detection: null,
        result: null,
        resultRequest: null,
        analysisStatus: 'idle',
      });
      await refreshImage(deps, requests, set, get, false);
    },
    loadModelFromUrl: async (url, name) => {
      const trimmed = url.trim();
      if (trimmed === '') {
        set({
          lastError: {
            code: 'model-fetch-failed',
            message: 'Enter the URL of a TF.js model.json or an .onnx file.',
            context: 'Loading a model',
          },
        });
        return;
      }
      await get().loadModel({ kind: 'url', url: resolveUrl(trimmed, deps.baseUrl) }, name ?? nameFromUrl(trimmed));
    },
    configureModel: async (options) => {
      if (!get().model) return;
      const signal = requests.configure.begin();
      set({ configuring: true });
      const outcome = await settle(signal, deps.engine.configureModel(options));
      if (outcome.kind === 'stale') return;
      if (outcome.kind !== 'done') {
        set({ configuring: false });
        if (outcome.kind === 'failed') set({ lastError: toUiError(outcome.error, 'Configuring the model') });
        return;
      }
      set({ model: outcome.value, configuring: false });
      if (options.resizePolicy !== undefined) await refreshImage(deps, requests, set, get, true);
      else if (options.targetLayer !== undefined || options.preprocessing !== undefined || options.labels !== undefined)
        await get().analyze();
    },
  });
}
