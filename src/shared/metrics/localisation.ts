/**
 * Localisation of explanation maps against ground-truth masks (VOC format: `0` background, `k + 1` class k,
 * `255` ignore), on plain arrays (no tensors): the pointing game, segmentation priors scored by mIoU, and the
 * overlap of a label's map with the *other* objects (the MinMax-CAM question).
 *
 * Every map here is a normalised explanation map (ReLU, min-max to [0, 1]) already resized to the mask's
 * size, row-major `[H * W]`. Specification: ../shared/docs/methods-and-metrics.md, "More faithfulness and
 * localisation metrics".
 */
import { cropFor } from '../model-input';

export const IGNORE_LABEL = 255;

/** A VOC-style mask: `height * width` class indices (0 background, k + 1 class k, 255 ignore). */
export interface SegmentationMask {
  width: number;
  height: number;
  data: Uint8Array;
}

function checkSize(map: ArrayLike<number>, mask: SegmentationMask, what: string): void {
  if (map.length !== mask.width * mask.height) {
    throw new RangeError(`${what}: map has ${map.length} values, mask is ${mask.width}x${mask.height}`);
  }
}

/** Index of the largest value (the first one on ties); -1 for an empty or all-NaN map. */
export function argmax(map: ArrayLike<number>): number {
  let best = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < map.length; i += 1) {
    const value = map[i]!;
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/**
 * The pointing game (Zhang et al., "Top-down neural attention by excitation backprop", ECCV 2016): a hit when
 * the map's maximum lies within `tolerance` pixels (Euclidean) of a pixel of `classId` in the mask. The
 * original uses 15 px on VOC images (about 500 px wide); pass a tolerance scaled to the image size.
 * An all-zero map has no maximum to point with: its first pixel is taken (usually a miss, never NaN).
 */
export function pointingGameHit(map: ArrayLike<number>, mask: SegmentationMask, classId: number, tolerance: number): boolean {
  checkSize(map, mask, 'pointingGameHit');
  const peak = Math.max(0, argmax(map));
  const px = peak % mask.width;
  const py = Math.floor(peak / mask.width);
  const target = classId + 1;
  const reach = Math.floor(tolerance);
  for (let y = Math.max(0, py - reach); y <= Math.min(mask.height - 1, py + reach); y += 1) {
    for (let x = Math.max(0, px - reach); x <= Math.min(mask.width - 1, px + reach); x += 1) {
      if (mask.data[y * mask.width + x] !== target) continue;
      if ((x - px) ** 2 + (y - py) ** 2 <= tolerance * tolerance) return true;
    }
  }
  return false;
}

/**
 * Segmentation prior from per-class maps (the usual weakly supervised segmentation read-out, e.g. Ahn and
 * Kwak, CVPR 2018): each pixel takes the class of its largest map value, or background (0) where no map
 * exceeds `backgroundThreshold`. `maps[i]` belongs to `classIds[i]`; output indices are `classId + 1`.
 */
export function segmentationFromMaps(
  maps: ReadonlyArray<ArrayLike<number>>,
  classIds: readonly number[],
  pixels: number,
  backgroundThreshold: number,
): Uint8Array {
  if (maps.length !== classIds.length) throw new RangeError('segmentationFromMaps: one class id per map');
  const out = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p += 1) {
    let best = 0;
    let bestValue = backgroundThreshold;
    for (let i = 0; i < maps.length; i += 1) {
      const value = maps[i]![p]!;
      if (value > bestValue) {
        bestValue = value;
        best = classIds[i]! + 1;
      }
    }
    out[p] = best;
  }
  return out;
}

/**
 * A confusion matrix over `numClasses` segmentation labels (background included), accumulated over images;
 * ground-truth pixels equal to 255 are skipped. IoU_k = TP / (TP + FP + FN); mIoU is the mean over the
 * classes that occur in the ground truth or the predictions (a class never seen nor predicted has no IoU).
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;

  constructor(readonly numClasses: number) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds one image: `truth` and `predicted` are class indices (0 .. numClasses - 1; truth may be 255). */
  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    if (truth.length !== predicted.length) throw new RangeError('ConfusionMatrix.add: sizes differ');
    const n = this.numClasses;
    for (let p = 0; p < truth.length; p += 1) {
      const t = truth[p]!;
      if (t === IGNORE_LABEL) continue;
      const q = predicted[p]!;
      if (t >= n || q >= n) throw new RangeError(`ConfusionMatrix.add: class ${Math.max(t, q)} >= ${n}`);
      this.counts[t * n + q] = this.counts[t * n + q]! + 1;
    }
  }

  /** Per-class IoU (NaN where the class is neither in the truth nor predicted). */
  iou(): number[] {
    const n = this.numClasses;
    return Array.from({ length: n }, (_, k) => {
      let truthTotal = 0;
      let predictedTotal = 0;
      for (let j = 0; j < n; j += 1) {
        truthTotal += this.counts[k * n + j]!;
        predictedTotal += this.counts[j * n + k]!;
      }
      const truePositive = this.counts[k * n + k]!;
      const union = truthTotal + predictedTotal - truePositive;
      return union === 0 ? Number.NaN : truePositive / union;
    });
  }

  meanIou(): number {
    const values = this.iou().filter((value) => !Number.isNaN(value));
    return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
  }
}

/** Where a label's map energy falls: on its own objects, on the other objects, or on the background. */
export interface MapEnergySplit {
  /** Fraction of the map's mass on pixels of the label's own class. */
  own: number;
  /** Fraction on pixels of other (labelled) objects: the "bleeding" MinMax-CAM is meant to reduce. */
  others: number;
  /** Fraction on background pixels. */
  background: number;
  /** Total mass over the scored (non-ignore) pixels; 0 for an all-zero map (then the fractions are 0). */
  mass: number;
}

/**
 * How a label's normalised map divides its mass between the label's own objects, the other objects and the
 * background, over the mask's non-ignore pixels. Never NaN: an all-zero map gives zeros.
 */
export function mapEnergySplit(map: ArrayLike<number>, mask: SegmentationMask, classId: number): MapEnergySplit {
  checkSize(map, mask, 'mapEnergySplit');
  const own = classId + 1;
  let ownMass = 0;
  let otherMass = 0;
  let backgroundMass = 0;
  for (let p = 0; p < mask.data.length; p += 1) {
    const label = mask.data[p]!;
    if (label === IGNORE_LABEL) continue;
    const value = Math.max(0, map[p]!);
    if (label === own) ownMass += value;
    else if (label === 0) backgroundMass += value;
    else otherMass += value;
  }
  const mass = ownMass + otherMass + backgroundMass;
  if (mass === 0) return { own: 0, others: 0, background: 0, mass: 0 };
  return { own: ownMass / mass, others: otherMass / mass, background: backgroundMass / mass, mass };
}

export interface LocalisationOptions {
  /** Number of object classes (the mask holds 0 .. numClasses and 255). */
  numClasses: number;
  /** Pointing-game tolerance in pixels of the mask. */
  tolerance: number;
  /** Background thresholds of the segmentation priors, scored together (one confusion matrix each). */
  thresholds: readonly number[];
}

export interface LocalisationResult {
  pointing: {
    /** Hit rate per class (null: the class never occurred). */
    perClass: Array<number | null>;
    /** Explained occurrences per class. */
    support: number[];
    /** Mean of the per-class hit rates over the classes that occurred. */
    meanPerClass: number;
    /** Hits over all occurrences. */
    overall: number;
  };
  segmentation: Array<{ threshold: number; perClassIou: number[]; meanIou: number }>;
  /**
   * Map mass on the other objects, for each (scene, label) of scenes with two or more labels, in the order
   * they were added (so two methods' lists pair up); with the means of all three fractions.
   */
  overlap: { count: number; own: number; others: number; background: number; othersPerLabel: number[] };
}

/**
 * Accumulates the localisation scores of one method over a set of images: pointing game per class,
 * segmentation priors at each background threshold (labels = the ground-truth classes, as weakly supervised
 * segmentation does), and the energy split on scenes with two or more labels.
 */
export class LocalisationAccumulator {
  private readonly hits: number[];
  private readonly support: number[];
  private readonly matrices: ConfusionMatrix[];
  private readonly overlaps: MapEnergySplit[] = [];

  constructor(readonly options: LocalisationOptions) {
    this.hits = new Array<number>(options.numClasses).fill(0);
    this.support = new Array<number>(options.numClasses).fill(0);
    this.matrices = options.thresholds.map(() => new ConfusionMatrix(options.numClasses + 1));
  }

  /**
   * One image: `maps[i]` is the normalised map of class `classIds[i]` at the mask's size; `classIds` are the
   * image's ground-truth classes (distinct).
   */
  add(maps: ReadonlyArray<ArrayLike<number>>, classIds: readonly number[], mask: SegmentationMask): void {
    if (maps.length !== classIds.length) throw new RangeError('LocalisationAccumulator.add: one map per class');
    if (new Set(classIds).size !== classIds.length) throw new RangeError('LocalisationAccumulator.add: classes must be distinct');
    const pixels = mask.width * mask.height;
    classIds.forEach((classId, i) => {
      if (classId < 0 || classId >= this.options.numClasses) throw new RangeError(`class ${classId} out of range`);
      this.support[classId] = this.support[classId]! + 1;
      if (pointingGameHit(maps[i]!, mask, classId, this.options.tolerance)) this.hits[classId] = this.hits[classId]! + 1;
      if (classIds.length >= 2) this.overlaps.push(mapEnergySplit(maps[i]!, mask, classId));
    });
    this.options.thresholds.forEach((threshold, t) => {
      this.matrices[t]!.add(mask.data, segmentationFromMaps(maps, classIds, pixels, threshold));
    });
  }

  result(): LocalisationResult {
    const perClass = this.support.map((count, k) => (count === 0 ? null : this.hits[k]! / count));
    const rates = perClass.filter((rate): rate is number => rate !== null);
    const occurrences = this.support.reduce((a, b) => a + b, 0);
    const mean = (values: number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
    return {
      pointing: {
        perClass,
        support: [...this.support],
        meanPerClass: mean(rates),
        overall: occurrences === 0 ? Number.NaN : this.hits.reduce((a, b) => a + b, 0) / occurrences,
      },
      segmentation: this.options.thresholds.map((threshold, t) => ({
        threshold,
        perClassIou: this.matrices[t]!.iou(),
        meanIou: this.matrices[t]!.meanIou(),
      })),
      overlap: {
        count: this.overlaps.length,
        own: mean(this.overlaps.map((split) => split.own)),
        others: mean(this.overlaps.map((split) => split.others)),
        background: mean(this.overlaps.map((split) => split.background)),
        othersPerLabel: this.overlaps.map((split) => split.others),
      },
    };
  }
}

/**
 * A mask fitted to the model input as the image was (nearest neighbour, so class indices stay exact):
 * 'squash' scales the whole mask; 'center-crop' takes the central region with the input's aspect ratio first.
 */
export function fitMask(mask: SegmentationMask, width: number, height: number, policy: 'squash' | 'center-crop'): SegmentationMask {
  // The same region of the photo the model sees (shared/model-input.ts), so mask and map line up exactly.
  const { x: x0, y: y0, width: cropWidth, height: cropHeight } = cropFor(mask.width, mask.height, policy, [height, width]);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const sy = Math.min(mask.height - 1, Math.floor(y0 + ((y + 0.5) * cropHeight) / height));
    for (let x = 0; x < width; x += 1) {
      const sx = Math.min(mask.width - 1, Math.floor(x0 + ((x + 0.5) * cropWidth) / width));
      data[y * width + x] = mask.data[sy * mask.width + sx]!;
    }
  }
  return { width, height, data };
}

/** The object classes present in a mask (indices 1 .. numClasses, minus one), sorted. */
export function classesInMask(mask: SegmentationMask, numClasses: number): number[] {
  const seen = new Uint8Array(numClasses + 1);
  for (const value of mask.data) if (value >= 1 && value <= numClasses) seen[value] = 1;
  const out: number[] = [];
  for (let k = 1; k <= numClasses; k += 1) if (seen[k] === 1) out.push(k - 1);
  return out;
}
