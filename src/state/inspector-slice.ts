/**
 * The feature-map inspector (issue #6, exploration): for one label of the current image, the channels of
 * largest weight with their activation maps, all the weights (CAM, and MinMax against another detected
 * label), and CAM next to MinMax-CAM with their difference. Numbers from the worker's walkthrough call.
 */
import type { StateCreator } from 'zustand/vanilla';
import type { EngineApi, WalkthroughData } from '../worker/protocol';
import { isCancelled, toUiError } from './errors';
import type { StudioState } from './store';

export const INSPECTOR_CHANNELS = 12;

export interface InspectorSlice {
  /** The inspected label; null: closed. */
  inspectorLabel: number | null;
  inspectorData: WalkthroughData | null;
  inspectorStatus: 'idle' | 'busy' | 'done' | 'error';
  /** The channel whose map is shown over the image. */
  inspectorChannel: number | null;
  inspect(label: number | null): Promise<void>;
  selectInspectorChannel(channel: number | null): void;
}

/** The label MinMax contrasts the inspected one with: the first other label of the detected set. */
export function inspectorContrast(state: Pick<StudioState, 'result'>, label: number): number | null {
  return state.result?.detected.find((other) => other !== label) ?? null;
}

export function inspectorSlice(deps: { engine: EngineApi }): StateCreator<StudioState, [], [], InspectorSlice> {
  let sequence = 0;
  return (set, get) => ({
    inspectorLabel: null,
    inspectorData: null,
    inspectorStatus: 'idle',
    inspectorChannel: null,
    selectInspectorChannel: (channel) => set({ inspectorChannel: channel }),
    inspect: async (label) => {
      const id = ++sequence;
      if (label === null) {
        set({ inspectorLabel: null, inspectorData: null, inspectorStatus: 'idle', inspectorChannel: null });
        return;
      }
      set({ inspectorLabel: label, inspectorStatus: 'busy', inspectorChannel: null });
      try {
        const data = await deps.engine.walkthrough({ label, contrastLabel: inspectorContrast(get(), label), channels: INSPECTOR_CHANNELS });
        if (id === sequence) set({ inspectorData: data, inspectorStatus: 'done', inspectorChannel: data.topChannels[0]?.channel ?? null });
      } catch (error) {
        if (id !== sequence) return;
        set({ inspectorStatus: 'error', ...(isCancelled(error) ? {} : { lastError: toUiError(error, 'Inspecting the feature maps') }) });
      }
    },
  });
}
