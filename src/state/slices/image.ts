/**
 * The current image: decoded by the engine, kept as given so that it can be decoded again when the model,
 * the backend or the resize policy changes. A bad image keeps the previous image and its results.
 */
import type { ImageSummary } from '../../shared/protocol';
import { toUiError } from '../errors';
import { settle, type StoreRequests } from '../latest';
import { resolveUrl } from '../startup';
import type { GetState, ImageSlice, SetState, Slice, StudioDeps } from '../types';

function closeBitmap(bitmap: ImageBitmap | undefined | null): void {
  if (!bitmap) return;
  try {
    if (typeof bitmap.close === 'function') bitmap.close();
  } catch {
    // already closed or not a real bitmap: nothing to release
  }
}

export function imageSlice(deps: StudioDeps, requests: StoreRequests): Slice<ImageSlice> {
  return (set, get) => ({
    image: null,
    imageName: null,
    imageStatus: 'idle',
    imageBlob: null,
    pendingImage: null,
    setImage: async (blob, name, queueId) => {
      set({ queueCurrent: queueId ?? null });
      await decodeImage(deps, requests, set, get, blob, name, { keepSelection: false });
    },
    loadSample: async (file, title, modelIds) => {
      if (modelIds !== undefined && modelIds.length > 0) {
        const entries = modelIds.flatMap((id) => get().catalog.filter((candidate) => candidate.id === id));
        const current = get().model;
        const keep = current !== null && entries.some((entry) => resolveUrl(entry.url, deps.baseUrl) === current.source);
        const first = entries[0];
        if (!keep && first !== undefined) await get().loadModelFromUrl(first.url, first.name);
      }
      const url = resolveUrl(`samples/${file.split('/').map(encodeURIComponent).join('/')}`, deps.baseUrl);
      let blob: Blob;
      try {
        const response = await deps.fetch(url);
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
        blob = await response.blob();
      } catch (error) {
        set({
          lastError: {
            code: 'sample-fetch-failed',
            message: `Could not fetch the sample image ${file}: ${toUiError(error, '').message}`,
            context: 'Loading a sample',
          },
        });
        return;
      }
      await get().setImage(blob, title ?? file);
    },
  });
}

/** Sends an image to the engine; on success it replaces the image, clears stale results and analyses. */
async function decodeImage(
  deps: StudioDeps,
  requests: StoreRequests,
  set: SetState,
  get: GetState,
  blob: Blob,
  name: string,
  options: { keepSelection: boolean },
): Promise<void> {
  const signal = requests.image.begin();
  requests.analyze.abort(); // results of the previous image in flight are stale now
  if (!get().model) {
    // No model yet (still loading): remember the image, the load sends it.
    set({ pendingImage: { blob, name }, imageName: name, imageStatus: 'waiting-for-model' });
    return;
  }
  const before = get();
  set({ imageStatus: 'loading', analysisStatus: 'busy', analyzeProgress: null, runningRequest: null });
  const outcome = await settle(signal, deps.engine.setImage(blob));
  if (outcome.kind === 'stale') {
    closeBitmap(outcome.late?.display);
    return;
  }
  if (outcome.kind !== 'done') {
    const now = get();
    set({
      imageStatus: now.image ? 'ready' : 'error',
      imageName: now.image ? before.imageName : name,
      analysisStatus: now.result ? 'done' : 'idle',
      pendingImage: null,
    });
    if (outcome.kind === 'failed') set({ lastError: toUiError(outcome.error, `Reading the image ${name}`) });
    return;
  }
  const summary: ImageSummary = outcome.value;
  const old = get().image;
  set({
    image: summary,
    imageName: name,
    imageBlob: blob,
    imageStatus: 'ready',
    pendingImage: null,
    result: null,
    resultRequest: null,
    ...(options.keepSelection ? {} : { selectedLabels: 'auto' as const }),
  });
  if (old && old !== summary) closeBitmap(old.display);
  await get().analyze();
}

/** Decodes the current (or pending) image again, e.g. after a new model, backend or resize policy. */
export async function refreshImage(
  deps: StudioDeps,
  requests: StoreRequests,
  set: SetState,
  get: GetState,
  keepSelection: boolean,
): Promise<void> {
  const state = get();
  const source = state.pendingImage ?? (state.imageBlob ? { blob: state.imageBlob, name: state.imageName ?? 'image' } : null);
  if (!source) return;
  await decodeImage(deps, requests, set, get, source.blob, source.name, { keepSelection });
}
