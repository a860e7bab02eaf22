/**
 * Seeded randomness and deterministic trigonometry for the synthetic-scene generator.
 *
 * Pure TypeScript: no DOM, no Node APIs, so the same code runs in Node, a Web Worker and the browser.
 *
 * Determinism: every number a scene is built from comes from integer PRNG state and the IEEE-754 basic
 * operations (+, -, *, /, Math.floor/round/abs/sqrt/imul), which give the same result on every JavaScript
 * engine. `Math.sin`/`Math.cos` are *not* specified bit-exactly by ECMAScript (engines may differ in the last
 * ulp), so this module provides its own {@link sinCos} built from a polynomial: the same seed gives the same
 * bytes everywhere, not only in the same engine.
 */

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state, 2^32 period generator; fast in JS because it
 * uses only `Math.imul` and shifts. Its statistical quality (passes gjrand / PractRand to a few GB) is far
 * beyond what placing a few shapes needs. Returns floats in [0, 1) with 32 random bits.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit integer finaliser (the `lowbias32` hash by Chris Wellons): neighbouring inputs give unrelated outputs. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The seed of an independent sub-stream `stream` of scene seed `seed`. The generator draws the background,
 * the object geometry/classes, the colours and the sensor noise from separate streams, so the background is
 * independent of the labels by construction (not only on average).
 */
export function deriveSeed(seed: number, stream: number): number {
  return mix32(mix32(seed) ^ mix32((Math.imul(stream + 1, 0x9e3779b9) >>> 0) ^ 0x85ebca6b));
}

/** Small convenience wrapper over {@link mulberry32}. */
export class Rng {
  private readonly source: () => number;
  constructor(seed: number) {
    this.source = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.source();
  }
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.source();
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.source() * n);
  }
}

/** 2π, spelled out so no engine constant is involved. */
export const TWO_PI = 6.283185307179586;

/**
 * `[sin(θ), cos(θ)]` from basic arithmetic only (bit-identical on every engine). Range-reduce to [-π, π],
 * divide by 4 (|x| <= π/4), Taylor series to degree 13/14 (truncation error < 1e-13), then two double-angle
 * steps. Absolute error is about 1e-14: plenty for geometry measured in pixels.
 */
export function sinCos(theta: number): [number, number] {
  const x = (theta - Math.round(theta / TWO_PI) * TWO_PI) / 4;
  const x2 = x * x;
  // Horner form of the Taylor series.
  let s = 1;
  for (let k = 13; k >= 3; k -= 2) s = 1 - (x2 / (k * (k - 1))) * s;
  s *= x;
  let c = 1;
  for (let k = 14; k >= 2; k -= 2) c = 1 - (x2 / (k * (k - 1))) * c;
  for (let i = 0; i < 2; i += 1) {
    const s2 = 2 * s * c;
    c = c * c - s * s;
    s = s2;
  }
  return [s, c];
}
