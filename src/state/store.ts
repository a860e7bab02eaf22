/**
 * The studio's one store: the slices of src/state/slices/ composed, with settings persistence at the root.
 * A vanilla zustand store (`createStudioStore`), so it runs in Node tests with a fake engine; React reads it
 * through `useStudio` (react.ts). The shape is in types.ts, what is derived from it in selectors.ts.
 *
 * Rules the actions keep:
 * - every async action shows a busy state while it runs;
 * - the latest request of each kind wins (latest.ts): an older one's result is dropped (analysis results
 *   also carry the model's loadId);
 * - a model load that fails keeps the current model; a bad image keeps the previous image and results;
 * - errors go to `lastError` (shown in a banner), never thrown out of an action.
 */
import { persist } from 'zustand/middleware';
import { createStore } from 'zustand/vanilla';
import { storeRequests } from './latest';
import { settingsPersistence } from './persistence';
import { analysisSlice } from './slices/analysis';
import { batchSlice } from './slices/batch';
import { classroomSlice } from './slices/classroom';
import { engineSlice } from './slices/engine';
import { errorSlice } from './slices/errors';
import { figureSlice } from './slices/figure';
import { imageSlice } from './slices/image';
import { inspectorSlice } from './slices/inspector';
import { metricsSlice } from './slices/metrics';
import { modelSlice } from './slices/model';
import { queueSlice } from './slices/queue';
import { viewSlice } from './slices/view';
import type { StudioDeps, StudioState, StudioStore } from './types';

/** Builds the store. Nothing runs until `start()` is called. */
export function createStudioStore(deps: StudioDeps): StudioStore {
  const requests = storeRequests();
  const persistence = settingsPersistence(deps);
  const store = createStore<StudioState>()(
    persist(
      (...a) => ({
        ...engineSlice(deps, requests, persistence)(...a),
        ...modelSlice(deps, requests)(...a),
        ...imageSlice(deps, requests)(...a),
        ...analysisSlice(deps, requests)(...a),
        ...viewSlice()(...a),
        ...errorSlice()(...a),
        ...metricsSlice(deps, requests)(...a),
        ...batchSlice(deps, requests)(...a),
        ...figureSlice(deps, requests)(...a),
        ...classroomSlice(deps, requests)(...a),
        ...inspectorSlice(deps, requests)(...a),
        ...queueSlice(deps)(...a),
      }),
      persistence.options,
    ),
  );
  persistence.attach(store);
  deps.onEngineRestart?.((reason, cause) => void store.getState().recoverEngine(reason, cause));
  return store;
}
