/**
 * Meta-methods: wrap any explanation method (spec, "Meta-methods").
 *
 * - **TTA** (test-time augmentation), after keras-explainable `methods.meta.tta` (L. David,
 *   github.com/lucasdavid/keras-explainable, `src/keras_explainable/methods/meta.py`; default scales
 *   0.5, 1.5, 2.0 and horizontal flip): the maps of every augmented input (flip x scales, the identity
 *   included) are mapped back to the original frame and averaged.
 * - **Smoothing**, the SmoothGrad idea (Smilkov et al., SmoothGrad: removing noise by adding noise,
 *   arXiv:1706.03825, 2017, Eq. 3) applied to any method: the mean of its maps over `n` copies of the input
 *   with Gaussian noise, `sigma = noiseLevel (max x - min x)`, seeded.
 *
 * Both compose: every noisy copy (noise added in the original frame) goes through every geometric
 * augmentation, `G x S` augmented inputs in all. Each augmented input costs ONE forward pass and one
 * `explain()` call serving all labels and all methods.
 *
 * Fixed input sizes: keras-explainable resizes the input to `s H x s W`, which a model with a fixed input
 * (the ResNet50: 224 x 224) cannot take. Here a scale keeps the input shape: `s > 1` zooms in (resize by
 * `s`, then centre-crop back to `H x W`), `s < 1` zooms out (resize by `s`, then pad back to `H x W` with
 * zeros in preprocessed space). Both are one bilinear resampling about the image centre,
 * `u = (v - c) / s + c` (v: augmented pixel, u: original pixel, c = (size - 1) / 2, pixel centres at
 * integers), done by `tf.image.cropAndResize` with extrapolation 0; a flip negates `v - c` on the x axis.
 * Maps go back by the inverse resampling `v = s (u - c) + c`, after bilinear upsampling to `H x W`.
 * Original pixels that an augmentation did not see (the border cropped away when `s > 1`) are not
 * counted: every pixel is averaged over the augmentations that saw it (a coverage count), so cropped
 * regions do not dilute the mean. The identity is always among the augmentations, so every pixel has a
 * count of at least 1 under TTA.
 *
 * Output: the same `MethodMaps` as `explain()`, but ALWAYS at input resolution (`resolution: 'input'`,
 * maps `[N, H, W]`), since maps of differently scaled inputs only align in the input frame. `raw` is the
 * coverage-weighted mean of the methods' raw (ReLU-ed) maps, `normalized` its ReLU + min-max
 * normalisation (the shared `normalizeMaps`). Unlike keras-explainable (which sums maps and divides by the
 * number of non-identity augmentations), this is a true mean.
 */
import { deterministicSeed } from '../random';
import * as tf from '@tensorflow/tfjs';
import { yieldToEventLoop } from '../batching';
import { normalizeMaps, upsampleMaps } from '../maps/filters';
import type { Classifier } from '../model/classifier';
import { explain, validateLabels, type ExplainRequest, type MethodMaps } from './explain';
import type { MethodId } from '../../shared/methods';
import type { MethodExtras } from './types';
import type { MetaOptions, SmoothOptions, TtaOptions } from '../../shared/options';

/** One geometric augmentation: optional horizontal flip, then a zoom by `scale` about the centre. */
export interface GeometricAugmentation {
  hflip: boolean;
  scale: number;
  /** e.g. `identity`, `hflip`, `x1.5`, `x0.5+hflip` */
  name: string;
}

/** Where one augmentation stands, passed to the progress callbacks. */
export interface AugmentationProgress {
  /** 0-based index of the augmented input being explained. */
  index: number;
  total: number;
  /** e.g. `x1.5+hflip`, `noise 3/8`, `x2+noise 1/4` */
  name: string;
}

export interface MetaExplainRequest extends Omit<ExplainRequest, 'onProgress'> {
  /** A method's own progress within the current augmentation (an ExplainRequest's 3-argument callback fits). */
  onProgress?: (method: MethodId, done: number, total: number, augmentation: AugmentationProgress) => void;
  /** Called before each augmented input (`done` = its index) and once at the end (`done = total`). */
  onAugmentation?: (done: number, total: number, name: string) => void;
}

/**
 * The geometric augmentations of a TTA setting, identity first, then for each scale (1 first) the
 * unflipped then the flipped version: `{1, scales} x {no flip, flip}` as keras-explainable does. Duplicate
 * scales (and 1) are dropped. Without TTA: the identity alone.
 */
export function geometricAugmentations(tta?: TtaOptions): GeometricAugmentation[] {
  const scales = [1];
  for (const scale of tta?.scales ?? []) {
    if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`TTA scales must be positive numbers (got ${scale}).`);
    if (!scales.includes(scale)) scales.push(scale);
  }
  const flips = tta?.hflip === true ? [false, true] : [false];
  return scales.flatMap((scale) =>
    flips.map((hflip) => ({
      hflip,
      scale,
      name: scale === 1 ? (hflip ? 'hflip' : 'identity') : `x${scale}${hflip ? '+hflip' : ''}`,
    })),
  );
}

const isIdentity = (augmentation: GeometricAugmentation): boolean => augmentation.scale === 1 && !augmentation.hflip;

/**
 * The `cropAndResize` box `[y1, x1, y2, x2]` (normalised, align-corners) of the resampling
 * `v -> (v - c) / zoom + c` (x negated about c when flipped).
 */
function zoomBox(zoom: number, hflip: boolean): [number, number, number, number] {
  const low = 0.5 - 0.5 / zoom;
  const high = 0.5 + 0.5 / zoom;
  return hflip ? [low, high, high, low] : [low, low, high, high];
}

/** Samples `image [1, H, W, C]` on the grid of `box`, 0 outside the image: `[1, H, W, C]`. Call inside tidy. */
function resample(image: tf.Tensor4D, box: [number, number, number, number]): tf.Tensor4D {
  const [, height, width] = image.shape;
  return tf.image.cropAndResize(image, tf.tensor2d([box]), tf.tensor1d([0], 'int32'), [height, width], 'bilinear', 0);
}

/**
 * The augmented input: flipped if asked, zoomed by `scale` about the centre (crop when `s > 1`, zero
 * padding in preprocessed space when `s < 1`), same shape. @param input `[1, H, W, C]` (caller-owned)
 * @returns a new `[1, H, W, C]` tensor the caller owns.
 */
export function augmentInput(input: tf.Tensor4D, augmentation: GeometricAugmentation): tf.Tensor4D {
  if (isIdentity(augmentation)) return tf.clone(input);
  return tf.tidy(() => resample(input, zoomBox(augmentation.scale, augmentation.hflip)));
}

/**
 * Which original pixels an augmentation sees. @returns `[H, W]`: 1 where the augmented input holds the
 * original pixel (its inverse-resampling point lies inside the augmented frame), else 0. Caller-owned.
 */
export function coverageOf(augmentation: GeometricAugmentation, size: [number, number]): tf.Tensor2D {
  if (isIdentity(augmentation)) return tf.ones(size) as tf.Tensor2D;
  return tf.tidy(
    () =>
      tf.reshape(
        resample(tf.ones([1, ...size, 1]) as tf.Tensor4D, zoomBox(1 / augmentation.scale, augmentation.hflip)),
        size,
      ) as tf.Tensor2D,
  );
}

/**
 * Maps of an augmented input back to the original frame: bilinear upsampling to `[H, W]`, then the inverse
 * resampling (undo the zoom, the crop or padding, and the flip).
 * @param maps `[N, h, w]` in the augmented frame (feature or input resolution); caller-owned.
 * @param size `[H, W]` of the input
 * @returns `[N, H, W]` in the original frame, exactly 0 where {@link coverageOf} is 0. Caller-owned.
 */
export function mapToOriginal(maps: tf.Tensor3D, augmentation: GeometricAugmentation, size: [number, number]): tf.Tensor3D {
  return tf.tidy(() => {
    const [, h, w] = maps.shape;
    const upsampled = h === size[0] && w === size[1] ? tf.clone(maps) : upsampleMaps(maps, size); // [N, H, W]
    if (isIdentity(augmentation)) return upsampled;
    const channelsLast = tf.expandDims(tf.transpose(upsampled, [1, 2, 0]), 0) as tf.Tensor4D; // [1, H, W, N]
    const back = resample(channelsLast, zoomBox(1 / augmentation.scale, augmentation.hflip)); // [1, H, W, N]
    return tf.transpose(tf.squeeze(back, [0]), [2, 0, 1]) as tf.Tensor3D;
  });
}

/** `n` seeded noisy copies, or the input itself once (null) without smoothing. */
function noiseSamples(smooth?: SmoothOptions): Array<number | null> {
  if (smooth === undefined) return [null];
  if (!Number.isInteger(smooth.samples) || smooth.samples < 1)
    throw new RangeError(`Smoothing needs a whole number of samples >= 1 (got ${smooth.samples}).`);
  if (!Number.isFinite(smooth.noiseLevel) || smooth.noiseLevel < 0)
    throw new RangeError(`The noise level must be >= 0 (got ${smooth.noiseLevel}).`);
  return Array.from({ length: smooth.samples }, (_, i) => i);
}

interface Accumulator {
  method: MethodId;
  /** Sum of coverage-masked raw maps `[N, H, W]`. */
  sum: tf.Tensor3D;
  ms: number;
  extras: Map<string, number[][]>;
}

/**
 * Explains `input` under test-time augmentation and/or noise smoothing (see the module comment).
 * @param input the preprocessed image `[1, H, W, C]` (caller-owned).
 * @param request as for `explain()`; `checkpoint` is called between augmentations (and within them, as
 *   `explain()` does); `onProgress` gets the current augmentation as a 4th argument; `onAugmentation`
 *   reports the augmentation index.
 * @returns one entry per method, in order, at input resolution (`[N, H, W]`, `resolution: 'input'`);
 *   `ms` sums the method's time over the augmentations (forward passes excluded); numeric `extras` are
 *   averaged over augmentations. The caller owns the tensors. On an error or a cancellation nothing leaks.
 */
export async function explainWithMeta(
  classifier: Classifier,
  input: tf.Tensor4D,
  request: MetaExplainRequest,
  meta: MetaOptions,
): Promise<MethodMaps[]> {
  validateLabels(classifier, request.labels);
  const geometric = geometricAugmentations(meta.tta);
  const noises = noiseSamples(meta.smooth);
  const total = geometric.length * noises.length;
  const [, height, width] = input.shape;
  const size: [number, number] = [height, width];
  const checkpoint = request.checkpoint ?? (() => undefined);

  let sigma = 0;
  if (meta.smooth !== undefined && meta.smooth.noiseLevel > 0) {
    const range = tf.tidy(() => tf.sub(tf.max(input), tf.min(input)));
    sigma = meta.smooth.noiseLevel * ((await range.data())[0] as number);
    range.dispose();
  }

  // [H, W]: how many augmented inputs saw each pixel (each noisy copy goes through every geometric one).
  const count = tf.tidy(
    () => tf.mul(tf.addN(geometric.map((augmentation) => coverageOf(augmentation, size))), noises.length) as tf.Tensor2D,
  );
  const accumulators: Accumulator[] = [];
  try {
    let index = 0;
    for (const noise of noises) {
      const seed = deterministicSeed(meta.smooth?.seed ?? 0, noise ?? 0);
      const noisy =
        noise === null || sigma === 0
          ? tf.clone(input)
          : tf.tidy(() => tf.add(input, tf.randomNormal(input.shape, 0, sigma, 'float32', seed)) as tf.Tensor4D); // [1, H, W, C]
      try {
        for (const augmentation of geometric) {
          await yieldToEventLoop();
          checkpoint();
          const name = [
            ...(isIdentity(augmentation) && noise !== null ? [] : [augmentation.name]),
            ...(noise === null ? [] : [`noise ${noise + 1}/${noises.length}`]),
          ].join('+');
          const progress: AugmentationProgress = { index, total, name };
          request.onAugmentation?.(index, total, name);
          await explainOne(classifier, noisy, augmentation, size, request, progress, accumulators);
          index += 1;
        }
      } finally {
        noisy.dispose();
      }
    }
    checkpoint();
    request.onAugmentation?.(total, total, 'done');
    return accumulators.map((accumulator) => {
      const [raw, normalized] = tf.tidy(() => {
        const mean = tf.relu(tf.divNoNan(accumulator.sum, tf.expandDims(count, 0))) as tf.Tensor3D; // [N, H, W]
        return [mean, normalizeMaps(mean)] as const;
      });
      const extras: MethodExtras = {};
      accumulator.extras.forEach((lists, key) => {
        const length = lists[0]!.length;
        if (lists.every((list) => list.length === length)) {
          extras[key] = Array.from({ length }, (_, i) => lists.reduce((sum, list) => sum + list[i]!, 0) / lists.length);
        }
      });
      return { method: accumulator.method, resolution: 'input' as const, raw, normalized, extras, notes: [], ms: accumulator.ms };
    });
  } finally {
    accumulators.forEach((accumulator) => accumulator.sum.dispose());
    count.dispose();
  }
}

/** One augmented input: one forward pass, one explain() for every label and method, maps added to the sums. */
async function explainOne(
  classifier: Classifier,
  noisy: tf.Tensor4D,
  augmentation: GeometricAugmentation,
  size: [number, number],
  request: MetaExplainRequest,
  progress: AugmentationProgress,
  accumulators: Accumulator[],
): Promise<void> {
  const augmented = augmentInput(noisy, augmentation); // [1, H, W, C]
  let forward: ReturnType<Classifier['forward']> | null = null;
  let results: MethodMaps[] = [];
  try {
    forward = classifier.forward(augmented);
    const { onProgress, onAugmentation, ...rest } = request;
    void onAugmentation; // not explain()'s
    results = await explain(classifier, augmented, forward, {
      ...rest,
      ...(onProgress === undefined
        ? {}
        : { onProgress: (method: MethodId, done: number, total: number) => onProgress(method, done, total, progress) }),
    });
    for (const result of results) {
      let accumulator = accumulators.find((candidate) => candidate.method === result.method);
      if (accumulator === undefined) {
        accumulator = { method: result.method, sum: tf.zeros([result.raw.shape[0], ...size]), ms: 0, extras: new Map() };
        accumulators.push(accumulator);
      }
      // Unseen pixels come back as exactly 0 (cropAndResize's extrapolation value) and are not counted.
      const next = tf.tidy(() => tf.add(accumulator.sum, mapToOriginal(result.raw, augmentation, size)) as tf.Tensor3D);
      accumulator.sum.dispose();
      accumulator.sum = next;
      accumulator.ms += result.ms;
      for (const [key, list] of Object.entries(result.extras)) {
        accumulator.extras.set(key, [...(accumulator.extras.get(key) ?? []), list]);
      }
    }
  } finally {
    results.forEach((result) => {
      result.raw.dispose();
      result.normalized.dispose();
    });
    if (forward !== null) tf.dispose([forward.activations, forward.logits]);
    augmented.dispose();
  }
}
