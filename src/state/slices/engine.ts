/**
 * The engine and its backend: startup (URL parameters, stored settings, the catalog, the backend, the first
 * model), backend switches, and recovery after the engine worker was replaced (a crash, a lost GPU).
 */
import { orderMethods } from '../../shared/methods';
import type { BackendChoice, BackendReport } from '../../shared/protocol';
import { CATALOG_PATH } from '../constants';
import { toUiError } from '../errors';
import { settle, type StoreRequests } from '../latest';
import type { SettingsPersistence } from '../persistence';
import { nameFromUrl, parseCatalog, parseStartupParams, resolveUrl, type CatalogEntry } from '../startup';
import { settingsFromSearch } from '../settings';
import type { EngineSlice, Slice, StudioDeps } from '../types';
import { refreshImage } from './image';

/** Two WebGPU device losses within this window switch the engine to wasm. */
const DEVICE_LOSS_WINDOW_MS = 10 * 60_000;

async function fetchCatalog(deps: StudioDeps): Promise<CatalogEntry[]> {
  const response = await deps.fetch(resolveUrl(CATALOG_PATH, deps.baseUrl));
  if (!response.ok) throw new Error(`${CATALOG_PATH}: HTTP ${response.status}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new Error(`${CATALOG_PATH} is not JSON`);
  }
  return parseCatalog(json);
}

export function engineSlice(deps: StudioDeps, requests: StoreRequests, persistence: SettingsPersistence): Slice<EngineSlice> {
  /** When WebGPU lost its device (ms since the epoch), within DEVICE_LOSS_WINDOW_MS. */
  const deviceLosses: number[] = [];
  return (set, get) => ({
    backend: null,
    backendStatus: 'idle',
    requestedBackend: 'auto',
    start: async () => {
      void get().findInterruptedBatch(); // a folder evaluation a closed tab interrupted is offered for resuming
      const params = parseStartupParams(deps.search);
      // Settings: the last session's (storage), overridden by the URL's (a shared link).
      const fromUrl = settingsFromSearch(deps.search);
      const settings = { ...persistence.load(), ...fromUrl.settings };
      set({
        requestedBackend: params.backend,
        backendStatus: 'starting',
        catalogStatus: 'loading',
        notices: [...params.warnings, ...fromUrl.warnings],
        modelStatus: 'loading',
        ...(settings.mode === undefined ? {} : { mode: settings.mode }),
        ...(settings.methods === undefined ? {} : { methods: orderMethods(settings.methods) }),
        ...(settings.colormap === undefined ? {} : { colormap: settings.colormap }),
        ...(settings.opacity === undefined ? {} : { opacity: settings.opacity }),
        ...(settings.topK === undefined ? {} : { topK: settings.topK }),
        ...(settings.gridTransposed === undefined ? {} : { gridTransposed: settings.gridTransposed }),
        ...(settings.whileBusy === undefined ? {} : { whileBusy: settings.whileBusy }),
      });
      persistence.startWriting();
      const catalogPromise = fetchCatalog(deps).then(
        (catalog) => {
          set({ catalog, catalogStatus: 'ready' });
          return catalog;
        },
        (error: unknown) => {
          set({ catalogStatus: 'error' });
          return toUiError(error, 'Reading the model catalog');
        },
      );
      const signal = requests.backend.begin();
      let report: BackendReport | null = null;
      try {
        report = await deps.engine.init(params.backend);
      } catch (error) {
        set({ lastError: toUiError(error, `Starting the ${params.backend} backend`) });
        if (params.backend !== 'auto') {
          try {
            report = await deps.engine.init('auto');
            set({ requestedBackend: 'auto' });
          } catch (fallbackError) {
            set({ lastError: toUiError(fallbackError, 'Starting a backend') });
          }
        }
      }
      if (!signal.aborted) set({ backend: report, backendStatus: report ? 'ready' : 'error' });
      const catalog = await catalogPromise;
      if (!report) {
        set({ modelStatus: 'error' });
        return;
      }
      let url: string | null = params.modelUrl ?? settings.model ?? null;
      let name: string | undefined =
        url === null
          ? undefined
          : get().catalog.find((entry) => resolveUrl(entry.url, deps.baseUrl) === resolveUrl(url!, deps.baseUrl))?.name;
      if (url === null) {
        const unavailable = (message: string): void => {
          const help = 'Run `npm run setup` to download the bundled models, then reload this page.';
          set({ modelStatus: 'error', lastError: { code: 'catalog-unavailable', message: `${message} ${help}`, context: 'Starting' } });
        };
        if (!Array.isArray(catalog)) {
          unavailable(`Could not read the model catalog (${catalog.message}).`);
          return;
        }
        const first = catalog[0];
        if (!first) {
          unavailable('The model catalog lists no models.');
          return;
        }
        url = first.url;
        name = first.name;
      }
      if (get().model || requests.load.started) return; // the user already picked a model meanwhile
      await get().loadModel({ kind: 'url', url: resolveUrl(url, deps.baseUrl) }, name ?? nameFromUrl(url));
      // A model load resets the detected-set rule; the saved or linked one applies to the first model.
      if (settings.detection !== undefined && get().model !== null && get().image === null) set({ detection: settings.detection });
    },
    recoverEngine: async (reason, cause = 'crash') => {
      const before = get();
      requests.analyze.abort(); // whatever the dead worker was computing is gone
      const now = Date.now();
      if (cause === 'device-lost') deviceLosses.push(now);
      while (deviceLosses.length > 0 && now - deviceLosses[0]! > DEVICE_LOSS_WINDOW_MS) deviceLosses.shift();
      const fallBack = cause === 'device-lost' && deviceLosses.length >= 2;
      const requested: BackendChoice = fallBack ? 'wasm' : before.requestedBackend;
      set({
        notices: [
          ...before.notices,
          fallBack
            ? `${reason} WebGPU lost its device ${deviceLosses.length} times in ten minutes, so the engine was restarted on wasm (the CPU); the model and the image are loaded again. Choose WebGPU under Backend to try it again.`
            : `${reason} The engine was restarted; the model and the image are loaded again.`,
        ],
        backend: null,
        backendStatus: 'starting',
        requestedBackend: requested,
        analysisStatus: before.result ? 'done' : 'idle',
        analyzeProgress: null,
        runningRequest: null,
        ...(before.metricsStatus === 'busy' ? { metricsStatus: before.metrics ? 'done' : 'idle', metricsProgress: null } : {}),
      });
      let report: BackendReport | null = null;
      for (const choice of requested === 'auto' ? (['auto'] as const) : ([requested, 'auto'] as const)) {
        try {
          report = await deps.engine.init(choice);
          break;
        } catch (error) {
          set({ lastError: toUiError(error, `Starting the ${choice} backend again`) });
        }
      }
      set({ backend: report, backendStatus: report ? 'ready' : 'error' });
      if (get().lastError?.code === 'engine-crashed') set({ lastError: null }); // the crash is the notice above
      // Results of the dead worker stay readable, but the new one has no image, forward pass or jobs: the
      // queue's images are explained again, and figure and walkthrough numbers recomputed when next needed.
      set({ queue: get().queue.map(({ id, name, blob }) => ({ id, name, blob, status: 'waiting' as const })), walkthroughKey: null });
      if (report === null || before.modelSource === null) return;
      await get().loadModel(before.modelSource, before.modelSourceName ?? undefined);
    },
    setBackend: async (choice) => {
      const signal = requests.backend.begin();
      const previous = get().requestedBackend;
      set({ backendStatus: 'switching', requestedBackend: choice });
      const switched = await settle(signal, deps.engine.setBackend(choice));
      if (switched.kind === 'stale') return;
      if (switched.kind !== 'done') {
        set({ backendStatus: get().backend ? 'ready' : 'error', requestedBackend: previous });
        if (switched.kind === 'failed') set({ lastError: toUiError(switched.error, `Switching to the ${choice} backend`) });
        return;
      }
      set({ backend: switched.value, backendStatus: 'ready' });
      if (!get().model) return;
      // The worker reloaded the model on the new backend: refresh its summary, then the image and results.
      const configure = requests.configure.begin();
      set({ configuring: true });
      const reloaded = await settle(configure, deps.engine.configureModel({}));
      if (reloaded.kind === 'stale' || signal.aborted) return;
      if (reloaded.kind !== 'done') {
        set({ configuring: false });
        // The worker could not reload the model on the new backend: it no longer holds one.
        const error = reloaded.kind === 'failed' ? reloaded.error : null;
        if ((error as { name?: unknown } | null)?.name === 'no-model')
          set({ model: null, modelStatus: 'error', result: null, resultRequest: null, analysisStatus: 'idle' });
        if (reloaded.kind === 'failed') set({ lastError: toUiError(reloaded.error, 'Reloading the model on the new backend') });
        return;
      }
      set({ model: reloaded.value, configuring: false });
      await refreshImage(deps, requests, set, get, true);
    },
  });
}
