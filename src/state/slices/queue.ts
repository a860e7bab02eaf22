/**
 * The exploration queue (issue #6): several images dropped at once wait in a filmstrip; the engine explains
 * them in order in the background, whenever the foreground is idle (a foreground request supersedes the
 * background one, which is simply taken up again later). Results are kept per image for the settings they
 * were made with, so switching to an image already done needs no new analysis: `analyze()` finds the
 * result there (selectors.ts `queuedResult`).
 */
import type { AnalyzeRequest, AnalyzeResult } from '../../shared/protocol';
import { isCancelled, toUiError } from '../errors';
import { analyzeRequestBase, foregroundBusy, settingsKey } from '../selectors';
import type { GetState, QueueItem, QueueSlice, SetState, Slice, StudioDeps } from '../types';

/** Keeps a foreground result of a queue image (with the default labels), so switching back is instant. */
export function rememberQueuedResult(get: GetState, set: SetState, request: AnalyzeRequest, result: AnalyzeResult): void {
  const state = get();
  if (state.queueCurrent === null || request.labels !== 'auto') return;
  set({
    queue: state.queue.map((item) =>
      item.id === state.queueCurrent && item.blob === state.imageBlob
        ? { ...item, status: 'done', result, request, key: settingsKey(request, result.loadId) }
        : item,
    ),
  });
}

export function queueSlice(deps: Pick<StudioDeps, 'engine'>): Slice<QueueSlice> {
  let nextId = 1;
  let processing = false;
  const patchItem = (set: SetState, get: GetState, id: number, patch: Partial<QueueItem>): void => {
    set({ queue: get().queue.map((item) => (item.id === id ? { ...item, ...patch } : item)) });
  };
  return (set, get) => ({
    queue: [],
    queueCurrent: null,
    queueNext: null,
    enqueueImages: async (files) => {
      const items: QueueItem[] = files.map((file) => ({ id: nextId++, name: file.name, blob: file.blob, status: 'waiting' }));
      if (items.length === 0) return;
      set({ queue: [...get().queue, ...items] });
      const state = get();
      if (state.whileBusy === 'queue' && state.analysisStatus === 'busy') {
        // The running analysis goes on; the first new image is shown when it ends (see processQueue).
        if (state.queueNext === null) set({ queueNext: items[0]!.id });
        return;
      }
      await get().selectQueued(items[0]!.id);
    },
    selectQueued: async (id) => {
      const item = get().queue.find((candidate) => candidate.id === id);
      if (item === undefined) return;
      if (get().queueNext !== null) set({ queueNext: null }); // the user chose which image to show
      await get().setImage(item.blob, item.name, id);
    },
    removeQueued: (id) => {
      set({
        queue: get().queue.filter((item) => item.id !== id),
        ...(get().queueCurrent === id ? { queueCurrent: null } : {}),
        ...(get().queueNext === id ? { queueNext: null } : {}),
      });
    },
    processQueue: async () => {
      if (processing) return;
      processing = true;
      try {
        for (;;) {
          const state = get();
          if (state.model === null || foregroundBusy(state)) return;
          if (state.queueNext !== null) {
            // An image that waited for the analysis that just ended: show it (its analysis is the foreground's).
            const waiting = state.queueNext;
            set({ queueNext: null });
            processing = false;
            await get().selectQueued(waiting);
            return;
          }
          const base = analyzeRequestBase(state, 'auto');
          const key = settingsKey(base, state.model.loadId);
          const item = state.queue.find(
            (candidate) =>
              candidate.status !== 'error' &&
              candidate.status !== 'running' &&
              candidate.key !== key &&
              candidate.id !== state.queueCurrent,
          );
          if (item === undefined) return;
          patchItem(set, get, item.id, { status: 'running' });
          try {
            const { result, displaySize } = await deps.engine.analyzeFile(item.blob, base);
            patchItem(set, get, item.id, {
              status: 'done',
              result,
              request: { ...base, displaySize },
              key: settingsKey(base, result.loadId),
            });
          } catch (error) {
            if (isCancelled(error)) {
              patchItem(set, get, item.id, { status: 'waiting' });
              return; // the foreground took the engine; its end restarts the queue
            }
            patchItem(set, get, item.id, { status: 'error', error: toUiError(error, item.name).message });
          }
        }
      } finally {
        processing = false;
      }
    },
  });
}
