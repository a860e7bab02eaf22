/**
 * Input-gradient saliency: maps at the input resolution `[N, H, W]`, from gradients of the logits with
 * respect to the preprocessed input, computed for all labels in one batched backward pass.
 */
import { deterministicSeed } from '../random';
import * as tf from '@tensorflow/tfjs';
import { yieldToEventLoop } from '../batching';
import type { ExplainContext } from './context';
import { defineMethod, type MethodControl } from './types';

/** `max_c |g|` over colour channels: `[B, H, W, C]` -> `[B, H, W]`. */
const maxAbsOverChannels = (gradients: tf.Tensor4D): tf.Tensor3D => tf.max(tf.abs(gradients), 3) as tf.Tensor3D;

/** Vanilla gradient: Simonyan, Vedaldi, Zisserman, ICLR Workshop 2014, Eq. 2: `max_c |dS_c/dx|`. */
export const saliency = defineMethod('saliency', (context) => ({ maps: tf.tidy(() => maxAbsOverChannels(context.inputGradients())) }));

/** Gradient x input: Shrikumar et al., 2016: `sum_c x * dS/dx` (signed; the pipeline's ReLU keeps the positive evidence). */
export const gradxinput = defineMethod('gradxinput', (context) => ({
  maps: tf.tidy(() => tf.sum(tf.mul(context.inputGradients(), context.input), 3) as tf.Tensor3D),
}));

/**
 * SmoothGrad: Smilkov et al., 2017, Eq. 3: mean of vanilla-gradient maps over `n` copies of the input with
 * Gaussian noise, `sigma = noiseLevel (max x - min x)` (defaults n = 20, 0.15). Seeded: same input, same map.
 */
/** About two 224 x 224 inputs: the pixels one backward pass may carry (all labels' copies together). */
export const GRADIENT_PIXEL_BUDGET = 2 * 224 * 224;

/**
 * Inputs per batched backward pass for `labels` labels: at most `requested / labels`, and at most what
 * GRADIENT_PIXEL_BUDGET allows, at least 1. Measured: SmoothGrad on the 224-px ResNet50 with the former
 * fixed 8 inputs per pass overflowed the wasm backend's heap ("memory access out of bounds", Node and
 * browser alike); small inputs (the shapes models' 48 px) keep the full batch.
 */
export function gradientBatchSize(requested: number, labels: number, height: number, width: number): number {
  const perLabel = Math.floor(requested / Math.max(1, labels));
  const byMemory = Math.floor(GRADIENT_PIXEL_BUDGET / (height * width * Math.max(1, labels)));
  return Math.max(1, Math.min(perLabel, byMemory));
}

export const smoothgrad = defineMethod('smoothgrad', async (context: ExplainContext, control: MethodControl) => {
  const { samples, noiseLevel, seed } = context.options.smoothgrad;
  const [, height, width] = context.input.shape;
  const batch = gradientBatchSize(8, context.labels.length, height, width);
  const range = tf.tidy(() => tf.sub(tf.max(context.input), tf.min(context.input)));
  const sigma = noiseLevel * ((await range.data())[0] as number);
  range.dispose();
  let sum: tf.Tensor3D = tf.zeros([context.labels.length, height, width]);
  const total = Math.ceil(samples / batch);
  try {
    for (let start = 0, step = 0; start < samples; start += batch, step += 1) {
      await yieldToEventLoop();
      control.checkpoint();
      const size = Math.min(batch, samples - start);
      const next = tf.tidy(() => {
        const noise =
          sigma > 0
            ? tf.randomNormal([size, ...context.input.shape.slice(1)], 0, sigma, 'float32', deterministicSeed(seed, start))
            : tf.zeros([size, ...context.input.shape.slice(1)]);
        const noisy = tf.add(context.input, noise) as tf.Tensor4D; // [b, H, W, C]
        const maps = maxAbsOverChannels(context.inputGradientsAt(noisy)); // [b * N, H, W]
        const perLabel = tf.sum(tf.reshape(maps, [size, context.labels.length, height, width]), 0); // [N, H, W]
        return tf.add(sum, perLabel) as tf.Tensor3D;
      });
      sum.dispose();
      sum = next;
      await sum.data(); // let the backend finish the batch before reporting progress
      control.progress(step + 1, total);
    }
    return { maps: tf.tidy(() => tf.div(sum, samples) as tf.Tensor3D) };
  } finally {
    sum.dispose();
  }
});

/**
 * Integrated Gradients: Sundararajan, Taly, Yan, ICML 2017, Eq. 3 (Riemann sum, right endpoints):
 * `IG = (x - x') * mean_{a in {1/m .. 1}} dS_c/dx(x' + a (x - x'))`, baseline `x' = 0` in preprocessed
 * space, `m` steps (default 32). Map: sum over colour channels. Reports the completeness gap
 * `sum IG - (S_c(x) - S_c(x'))` per label in `extras.completenessGap`.
 */
export const integratedGradients = defineMethod('integrated-gradients', async (context: ExplainContext, control: MethodControl) => {
  const { steps, batchSize } = context.options.integratedGradients;
  const count = context.labels.length;
  const [, height, width, channels] = context.input.shape;
  const perBatch = gradientBatchSize(batchSize, count, height, width);
  let gradientSum: tf.Tensor4D = tf.zeros([count, height, width, channels]);
  const total = Math.ceil(steps / perBatch);
  try {
    for (let start = 1, step = 0; start <= steps; start += perBatch, step += 1) {
      await yieldToEventLoop();
      control.checkpoint();
      const size = Math.min(perBatch, steps - start + 1);
      const next = tf.tidy(() => {
        const alphas = tf.reshape(tf.div(tf.range(start, start + size, 1, 'float32'), steps), [size, 1, 1, 1]);
        const path = tf.mul(alphas, context.input) as tf.Tensor4D; // x' + a (x - x') with x' = 0: [b, H, W, C]
        const gradients = context.inputGradientsAt(path); // [b * N, H, W, C]
        const perLabel = tf.sum(tf.reshape(gradients, [size, count, height, width, channels]), 0); // [N, H, W, C]
        return tf.add(gradientSum, perLabel) as tf.Tensor4D;
      });
      gradientSum.dispose();
      gradientSum = next;
      await gradientSum.data();
      control.progress(step + 1, total);
    }
    const [maps, gap] = tf.tidy(() => {
      const attributions = tf.mul(tf.div(gradientSum, steps), context.input); // (x - x') * mean gradient
      const selector = context.labelSelector();
      const atInput = tf.sum(tf.mul(context.logits, selector), 1); // [N]
      const atBaseline = tf.sum(tf.mul(context.adapter.logitsOf(tf.zerosLike(context.input)), selector), 1); // [N]
      const completeness = tf.sub(tf.sum(attributions, [1, 2, 3]), tf.sub(atInput, atBaseline));
      return [tf.sum(attributions, 3) as tf.Tensor3D, completeness] as const;
    });
    try {
      return { maps, extras: { completenessGap: Array.from(await gap.data()) } };
    } finally {
      gap.dispose();
    }
  } finally {
    gradientSum.dispose();
  }
});
