import { describe, expect, it } from 'vitest';
import {
  ConfusionMatrix,
  LocalisationAccumulator,
  argmax,
  classesInMask,
  fitMask,
  mapEnergySplit,
  pointingGameHit,
  segmentationFromMaps,
  type SegmentationMask,
} from './localisation';

/** 6x4 mask: class 0 (index 1) in the top-left 2x2, class 2 (index 3) in the right column, ignore at (2, 0). */
function fixtureMask(): SegmentationMask {
  const width = 6;
  const height = 4;
  const data = new Uint8Array(width * height);
  for (const [x, y] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ] as const)
    data[y * width + x] = 1;
  for (let y = 0; y < height; y += 1) data[y * width + 5] = 3;
  data[2] = 255;
  return { width, height, data };
}

function mapWithPeakAt(x: number, y: number, width = 6, height = 4): Float32Array {
  const map = new Float32Array(width * height).fill(0.1);
  map[y * width + x] = 1;
  return map;
}

describe('pointing game', () => {
  it('hits on the class, misses elsewhere, and honours the tolerance (Euclidean)', () => {
    const mask = fixtureMask();
    expect(pointingGameHit(mapWithPeakAt(1, 1), mask, 0, 0)).toBe(true);
    expect(pointingGameHit(mapWithPeakAt(3, 3), mask, 0, 0)).toBe(false);
    // (3, 2) is 2 columns and 1 row from (1, 1): distance sqrt(5) = 2.24.
    expect(pointingGameHit(mapWithPeakAt(3, 2), mask, 0, 2)).toBe(false);
    expect(pointingGameHit(mapWithPeakAt(3, 2), mask, 0, 2.3)).toBe(true);
    // The other class's pixels never count.
    expect(pointingGameHit(mapWithPeakAt(5, 2), mask, 0, 1)).toBe(false);
    expect(pointingGameHit(mapWithPeakAt(5, 2), mask, 2, 0)).toBe(true);
  });

  it('an all-zero map points at its first pixel; a size mismatch is an error', () => {
    const mask = fixtureMask();
    expect(pointingGameHit(new Float32Array(24), mask, 0, 0)).toBe(true);
    expect(pointingGameHit(new Float32Array(24), mask, 2, 0)).toBe(false);
    expect(() => pointingGameHit(new Float32Array(5), mask, 0, 0)).toThrow(RangeError);
    expect(argmax([])).toBe(-1);
    expect(argmax([0.2, 0.7, 0.7])).toBe(1);
  });
});

describe('segmentation priors and mIoU', () => {
  it('each pixel takes the class of its largest map, background under the threshold', () => {
    const a = [0.9, 0.2, 0.5, 0.1];
    const b = [0.1, 0.8, 0.6, 0.2];
    expect(Array.from(segmentationFromMaps([a, b], [0, 2], 4, 0.3))).toEqual([1, 3, 3, 0]);
    expect(Array.from(segmentationFromMaps([], [], 3, 0.3))).toEqual([0, 0, 0]);
  });

  it('IoU per class by hand, ignore pixels skipped, absent classes excluded from the mean', () => {
    const matrix = new ConfusionMatrix(4);
    //         truth:  bg bg  1  1  1 255  3
    //     predicted:  bg  1  1  1 bg   1  3
    matrix.add([0, 0, 1, 1, 1, 255, 3], [0, 1, 1, 1, 0, 1, 3]);
    const iou = matrix.iou();
    // bg: TP 1, FN 1 (bg -> 1), FP 1 (1 -> bg): 1/3. class 1: TP 2, FN 1, FP 1: 2/4. class 2: absent. class 3: 1.
    expect(iou[0]).toBeCloseTo(1 / 3, 12);
    expect(iou[1]).toBeCloseTo(0.5, 12);
    expect(Number.isNaN(iou[2])).toBe(true);
    expect(iou[3]).toBe(1);
    expect(matrix.meanIou()).toBeCloseTo((1 / 3 + 0.5 + 1) / 3, 12);
    expect(Number.isNaN(new ConfusionMatrix(3).meanIou())).toBe(true);
    expect(() => matrix.add([0], [4])).toThrow(RangeError);
  });
});

describe('map energy split', () => {
  it('divides the mass between own objects, other objects and background; ignore pixels do not count', () => {
    const mask = fixtureMask();
    const map = new Float32Array(24);
    map[0] = 1; // own (class 0)
    map[5] = 2; // other (class 2, right column)
    map[2] = 50; // ignore: not counted
    map[20] = 1; // background
    const split = mapEnergySplit(map, mask, 0);
    expect(split.mass).toBe(4);
    expect(split.own).toBeCloseTo(0.25, 12);
    expect(split.others).toBeCloseTo(0.5, 12);
    expect(split.background).toBeCloseTo(0.25, 12);
    // Seen from class 2, the roles swap.
    expect(mapEnergySplit(map, mask, 2).own).toBeCloseTo(0.5, 12);
  });

  it('an all-zero map gives zeros, never NaN', () => {
    expect(mapEnergySplit(new Float32Array(24), fixtureMask(), 0)).toEqual({ own: 0, others: 0, background: 0, mass: 0 });
  });
});

describe('LocalisationAccumulator', () => {
  it('adds up pointing hits per class, one confusion matrix per threshold, and overlaps only for multi-label images', () => {
    const accumulator = new LocalisationAccumulator({ numClasses: 3, tolerance: 0, thresholds: [0.5, 0.95] });
    const mask = fixtureMask();
    // Image 1: classes 0 and 2; class 0's map peaks on its object, class 2's map peaks on class 0's object.
    const own = mapWithPeakAt(0, 0);
    const wrong = mapWithPeakAt(1, 1);
    accumulator.add([own, wrong], [0, 2], mask);
    // Image 2: class 2 alone, peak on its column.
    accumulator.add([mapWithPeakAt(5, 0)], [2], mask);
    const result = accumulator.result();
    expect(result.pointing.support).toEqual([1, 0, 2]);
    expect(result.pointing.perClass).toEqual([1, null, 0.5]);
    expect(result.pointing.meanPerClass).toBeCloseTo(0.75, 12);
    expect(result.pointing.overall).toBeCloseTo(2 / 3, 12);
    expect(result.overlap.count).toBe(2);
    expect(result.overlap.othersPerLabel).toHaveLength(2);
    // At threshold 0.95 only the peaks are labelled: image 1 labels (0,0) as class 0 and (1,1) as class 2.
    const strict = result.segmentation[1]!;
    expect(strict.threshold).toBe(0.95);
    // By hand (ignore pixel skipped): class 0 (index 1): TP 1, 8 in the truth (two images), 1 predicted: 1/8.
    // Class 2 (index 3): TP 1 ((5, 0) in image 2), 8 in the truth, 2 predicted: 1/9. Background: 30 true,
    // 43 predicted, all 30 right: 30/43.
    expect(strict.perClassIou[1]).toBeCloseTo(1 / 8, 12);
    expect(strict.perClassIou[3]).toBeCloseTo(1 / 9, 12);
    expect(strict.perClassIou[0]).toBeCloseTo(30 / 43, 12);
    expect(strict.meanIou).toBeCloseTo((1 / 8 + 1 / 9 + 30 / 43) / 3, 12);
    expect(Number.isNaN(strict.perClassIou[2]!)).toBe(true);
    expect(() => accumulator.add([own], [0, 1], mask)).toThrow(RangeError);
    expect(() => accumulator.add([own, own], [0, 0], mask)).toThrow(RangeError);
  });
});

describe('masks fitted to the model input', () => {
  it('squash scales by nearest neighbour; centre-crop takes the middle first; classes are read back', () => {
    // 4x2 mask: columns 0-1 class index 1, columns 2-3 index 2 (rows equal).
    const mask: SegmentationMask = { width: 4, height: 2, data: new Uint8Array([1, 1, 2, 2, 1, 1, 2, 2]) };
    expect(Array.from(fitMask(mask, 2, 2, 'squash').data)).toEqual([1, 2, 1, 2]);
    // Centre crop of a 2x2 input from 4x2: the middle 2x2 (columns 1-2).
    expect(Array.from(fitMask(mask, 2, 2, 'center-crop').data)).toEqual([1, 2, 1, 2]);
    expect(Array.from(fitMask(mask, 1, 1, 'center-crop').data)).toEqual([2]);
    expect(classesInMask({ width: 3, height: 1, data: new Uint8Array([0, 3, 255]) }, 8)).toEqual([2]);
  });
});
