/**
 * Training data for the shapes classifier: scenes of a split generated once with the deterministic generator
 * (src/data/shapes) and kept in memory as RGB bytes plus multi-hot labels, then batched as `[B, S, S, 3]`
 * tensors in [0, 1] (the metadata's 'unit' preprocessing).
 */
import * as tf from '@tensorflow/tfjs';
import { NUM_SHAPE_CLASSES, generateScene, labelVector, splitSeed, type Split } from '../data/shapes';

export interface SceneSet {
  split: Split;
  /** Split index of the first scene (seeds `splitSeed(split, start + i)`). */
  start: number;
  count: number;
  size: number;
  /** RGB bytes, `count * size * size * 3`. */
  images: Uint8Array;
  /** Multi-hot, `count * 8`. */
  labels: Float32Array;
}

/** Scenes `start .. start + count - 1` of `split`, at `size` px. About 2 ms per 96-px scene. */
export function generateSceneSet(split: Split, start: number, count: number, size: number): SceneSet {
  const pixels = size * size * 3;
  const images = new Uint8Array(count * pixels);
  const labels = new Float32Array(count * NUM_SHAPE_CLASSES);
  for (let i = 0; i < count; i += 1) {
    const scene = generateScene(splitSeed(split, start + i), { size });
    images.set(scene.image, i * pixels);
    labels.set(labelVector(scene.labels), i * NUM_SHAPE_CLASSES);
  }
  return { split, start, count, size, images, labels };
}

/** The batch of the scenes at `indices`: images `[B, S, S, 3]` in [0, 1] and labels `[B, 8]`. */
export function batchOf(set: SceneSet, indices: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const pixels = set.size * set.size * 3;
  const count = indices.length;
  const x = new Float32Array(count * pixels);
  const y = new Float32Array(count * NUM_SHAPE_CLASSES);
  for (let b = 0; b < count; b += 1) {
    const index = indices[b]!;
    const offset = index * pixels;
    for (let p = 0; p < pixels; p += 1) x[b * pixels + p] = set.images[offset + p]! / 255;
    y.set(set.labels.subarray(index * NUM_SHAPE_CLASSES, (index + 1) * NUM_SHAPE_CLASSES), b * NUM_SHAPE_CLASSES);
  }
  return {
    x: tf.tensor4d(x, [count, set.size, set.size, 3]),
    y: tf.tensor2d(y, [count, NUM_SHAPE_CLASSES]),
  };
}

/** `[start, start + 1, ..., end - 1]`. */
export function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}
