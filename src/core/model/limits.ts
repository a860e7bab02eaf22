/**
 * How large a model the studio accepts, from the memory the device reports (navigator.deviceMemory, in GiB,
 * which Chromium rounds and caps at 8; absent in Firefox and Safari). A model's weights are held about twice
 * while it loads (the downloaded bytes and the backend's copy), and an explanation needs room for the
 * activations, gradients and masked batches on top: a quarter of the device's memory is left for weights.
 * The cap of 2 GiB keeps the wasm backend (a 32-bit heap of at most 4 GiB) and WebGPU's per-buffer limits
 * in reach.
 */
export interface WeightLimit {
  bytes: number;
  /** Why the limit is what it is, for the message that refuses a model. */
  why: string;
}

const GIB = 1024 ** 3;
/** What is assumed when the browser does not say. */
export const ASSUMED_DEVICE_MEMORY_GIB = 4;
export const MAX_WEIGHT_BYTES = 2 * GIB;

export function modelWeightLimit(deviceMemoryGiB: number | undefined): WeightLimit {
  const known = typeof deviceMemoryGiB === 'number' && Number.isFinite(deviceMemoryGiB) && deviceMemoryGiB > 0;
  const memory = known ? deviceMemoryGiB : ASSUMED_DEVICE_MEMORY_GIB;
  const quarter = (memory * GIB) / 4;
  if (quarter >= MAX_WEIGHT_BYTES) return { bytes: MAX_WEIGHT_BYTES, why: 'the most a browser tab can hold for one model' };
  return {
    bytes: quarter,
    why: known
      ? `a quarter of the ${memory} GiB of memory this device reports, leaving room to explain`
      : `a quarter of the ${memory} GiB assumed, as this browser does not report its memory`,
  };
}

/**
 * Bytes one batch of masked inputs may hold (core/batching.ts): an eighth of the device's memory, at most
 * 1 GiB (the wasm heap also holds the weights and the explanation's own tensors).
 */
export function workingMemoryBudget(deviceMemoryGiB: number | undefined): number {
  const known = typeof deviceMemoryGiB === 'number' && Number.isFinite(deviceMemoryGiB) && deviceMemoryGiB > 0;
  return Math.min(GIB, ((known ? deviceMemoryGiB : ASSUMED_DEVICE_MEMORY_GIB) * GIB) / 8);
}
