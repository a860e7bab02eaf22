/**
 * The classroom walkthrough's state (issue #6): which step, label, contrast label and method are shown,
 * and the walkthrough's numbers for the current image (fetched from the worker, src/core/methods/walkthrough.ts).
 * Keyboard and buttons call the same actions.
 */
import { WALKTHROUGH_CHANNELS, WALKTHROUGH_METHODS, WALKTHROUGH_STEPS } from '../constants';
import { toUiError } from '../errors';
import { settle, type StoreRequests } from '../latest';
import { classroomCandidates, classroomLabels, walkthroughKey } from '../selectors';
import type { ClassroomSlice, Slice, StudioDeps } from '../types';

export function classroomSlice(deps: Pick<StudioDeps, 'engine'>, requests: StoreRequests): Slice<ClassroomSlice> {
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
          set(
            which === 'label' ? { classroomLabel: next, classroomContrast: contrast } : { classroomLabel: label, classroomContrast: next },
          );
          return;
        }
      }
    },
    loadWalkthrough: async () => {
      const state = get();
      const key = walkthroughKey(state);
      if (key === null || key === state.walkthroughKey) return;
      const { label, contrast } = classroomLabels(state);
      const signal = requests.walkthrough.begin();
      set({ walkthroughStatus: 'busy', walkthroughKey: key });
      const outcome = await settle(
        signal,
        deps.engine.walkthrough({ label: label!, contrastLabel: contrast, channels: WALKTHROUGH_CHANNELS }),
      );
      if (outcome.kind === 'stale') return;
      if (outcome.kind === 'done') set({ walkthrough: outcome.value, walkthroughStatus: 'done' });
      else
        set({
          walkthroughStatus: 'error',
          walkthroughKey: null,
          ...(outcome.kind === 'failed' ? { lastError: toUiError(outcome.error, 'Preparing the walkthrough') } : {}),
        });
    },
  });
}
