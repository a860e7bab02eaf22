/**
 * The feature-map inspector (issue #6, exploration): for one label of the current image, the channels of
 * largest weight with their activation maps, all the weights (CAM, and MinMax against another detected
 * label), and CAM next to MinMax-CAM with their difference. Numbers from the worker's walkthrough call.
 */
import { INSPECTOR_CHANNELS } from '../constants';
import { toUiError } from '../errors';
import { settle, type StoreRequests } from '../latest';
import { inspectorContrast } from '../selectors';
import type { InspectorSlice, Slice, StudioDeps } from '../types';

export function inspectorSlice(deps: Pick<StudioDeps, 'engine'>, requests: StoreRequests): Slice<InspectorSlice> {
  return (set, get) => ({
    inspectorLabel: null,
    inspectorData: null,
    inspectorStatus: 'idle',
    inspectorChannel: null,
    selectInspectorChannel: (channel) => set({ inspectorChannel: channel }),
    inspect: async (label) => {
      const signal = requests.inspector.begin();
      if (label === null) {
        set({ inspectorLabel: null, inspectorData: null, inspectorStatus: 'idle', inspectorChannel: null });
        return;
      }
      set({ inspectorLabel: label, inspectorStatus: 'busy', inspectorChannel: null });
      const outcome = await settle(
        signal,
        deps.engine.walkthrough({ label, contrastLabel: inspectorContrast(get(), label), channels: INSPECTOR_CHANNELS }),
      );
      if (outcome.kind === 'stale') return;
      if (outcome.kind === 'done')
        set({ inspectorData: outcome.value, inspectorStatus: 'done', inspectorChannel: outcome.value.topChannels[0]?.channel ?? null });
      else
        set({
          inspectorStatus: 'error',
          ...(outcome.kind === 'failed' ? { lastError: toUiError(outcome.error, 'Inspecting the feature maps') } : {}),
        });
    },
  });
}
