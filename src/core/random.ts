/**
 * Seeds for TF.js's random ops. `tf.randomNormal(..., seed)` treats a falsy seed as no seed at all and
 * draws from Math.random() (tfjs-core's MPRandGauss: `seed ? seed : Math.random()`), so seed 0 — the
 * default of SmoothGrad and of the smoothing meta-method, and the first batch of every run — was not
 * reproducible. Offsetting by 0.5 keeps every integer seed (0 included) distinct and deterministic.
 */
export function deterministicSeed(seed: number, index = 0): number {
  return seed + index + 0.5;
}
