/**
 * The classroom walkthrough's state (issue #6): which step, label, contrast label and method are shown,
 * and the walkthrough's numbers for the current image (fetched from the worker, src/core/methods/walkthrough.ts).
 * Keyboard and buttons call the same actions.
 */
import type { StateCreator } from 'zustand/vanilla';
import type { EngineApi, WalkthroughData } from '../worker/protocol';
import { isCancelled, toUiError } from './errors';
import type { StudioState } from './store';

/** The steps, in order: how a CAM is made, then Grad-CAM's weights, then the MinMax contrast. */
export const WALKTHROUGH_STEPS = ['input', 'features', 'weights', 'sum', 'relu', 'upsample', 'overlay', 'gradcam', 'minmax'] as const;
export type WalkthroughStep = (typeof WALKTHROUGH_STEPS)[number];

/** The weights the middle steps use. */
export const WALKTHROUGH_METHODS = ['cam', 'gradcam', 'minmax-cam'] as const;
export type WalkthroughMethod = (typeof WALKTHROUGH_METHODS)[number];

/** Channels shown as thumbnails. */
export const WALKTHROUGH_CHANNELS = 8;

export interface ClassroomSlice {
  classroomStep: number;
  classroomMethod: WalkthroughMethod;
  /** The explained label u (null: the top prediction). */
  classroomLabel: number | null;
  /** The contrast label v (null: the next prediction after u). */
  classroomContrast: number | null;
  walkthrough: WalkthroughData | null;
  walkthroughStatus: 'idle' | 'busy' | 'done' | 'error';
  /** The image and model the walkthrough was computed for. */
  walkthroughKey: string | null;
  setClassroomStep(step: number): void;
  stepClassroom(delta: 1 | -1): void;
  cycleClassroomMethod(): void;
  /** Moves u (or v) through the top predictions. */
  cycleClassroomLabel(which: 'label' | 'contrast', delta: 1 | -1): void;
  loadWalkthrough(): Promise<void>;
}

/** The labels the walkthrough cycles through: the current image's top predictions, most probable first. */
export function classroomCandidates(state: Pick<StudioState, 'result'>): number[] {
  return state.result?.predictions.map((p) => p.label) ?? [];
}

/** u and v in force: the chosen ones while they are among the predictions, else the defaults. */
export function classroomLabels(state: Pick<StudioState, 'result' | 'classroomLabel' | 'classroomContrast'>): { label: number | null; contrast: number | null } {
  const candidates = classroomCandidates(state);
  // A chosen label that is not among this image's predictions (a new image or model) falls back to the default.
  const chosen = (value: number | null): number | null => (value !== null && candidates.includes(value) ? value : null);
  const label = chosen(state.classroomLabel) ?? candidates[0] ?? null;
  const contrast = chosen(state.classroomContrast) ?? candidates.find((c) => c !== label) ?? null;
  return { label, contrast: contrast === label ? null : contrast };
}

export function walkthroughKey(state: Pick<StudioState, 'result' | 'classroomLabel' | 'classroomContrast' | 'model' | 'image'>): string | null {
  const { label, contrast } = classroomLabels(state);
  if (state.model === null || state.image === null || label === null) return null;
  return JSON.stringify([state.model.loadId, state.model.targetLayer, state.result?.jobId ?? null, label, contrast]);
}

export function classroomSlice(deps: { engine: EngineApi }): StateCreator<StudioState, [], [], ClassroomSlice> {
  let sequence = 0;
  return (set, get) => ({
    classroomStep: 0,
    classroomMethod: 'cam',
    classroomLabel: null,
    classroomContrast: null,
    walkthrough: null,
    walkthroughStatus: 'idle',
    walkthroughKey: null,
    setClassroomStep: (step) => set({ classroomStep: Math.max(0, Math.min(WALKTHROUGH_STEPS.length - 1, Math.round(step))) }),
    stepClassroom: (delta) => get().setClassroomStep(get().classroomStep + delta),
    cycleClassroomMethod: () => {
      const index = WALKTHROUGH_METHODS.indexOf(get().classroomMethod);
      set({ classroomMethod: WALKTHROUGH_METHODS[(index + 1) % WALKTHROUGH_METHODS.length]! });
    },
    cycleClassroomLabel: (which, delta) => {
      const state = get();
      const candidates = classroomCandidates(state);
      if (candidates.length === 0) return;
      const { label, contrast } = classroomLabels(state);
      const current = which === 'label' ? label : contrast;
      let index = current === null ? -1 : candidates.indexOf(current);
      for (let tries = 0; tries < candidates.length; tries += 1) {
        index = (index + delta + candidates.length) % candidates.length;
        const next = candidates[index]!;
        if (which === 'label' ? next !== contrast : next !== label) {
          // Pin the other one too: a default (null) would otherwise follow the change.
          set(which === 'label' ? { classroomLabel: next, classroomContrast: contrast } : { classroomLabel: label, classroomContrast: next });
          return;
        }
      }
    },
    loadWalkthrough: async () => {
      const state = get();
      const key = walkthroughKey(state);
      if (key === null || key === state.walkthroughKey) return;
      const { label, contrast } = classroomLabels(state);
      const id = ++sequence;
      set({ walkthroughStatus: 'busy', walkthroughKey: key });
      try {
        const data = await deps.engine.walkthrough({ label: label!, contrastLabel: contrast, channels: WALKTHROUGH_CHANNELS });
        if (id === sequence) set({ walkthrough: data, walkthroughStatus: 'done' });
      } catch (error) {
        if (id !== sequence) return;
        set({ walkthroughStatus: 'error', walkthroughKey: null, ...(isCancelled(error) ? {} : { lastError: toUiError(error, 'Preparing the walkthrough') }) });
      }
    },
  });
}
