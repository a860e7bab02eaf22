import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifierAdapter } from '../model/adapter';
import { initNodeBackend } from '../../node/backend';
import { handWeightedInput, handWeightedModel } from '../../testing/tiny-models';
import { maskedProbabilities, saliencyCurves } from './faithfulness';
import { FaithfulnessAggregator, areaUnderCurve, detectionScores, fBeta, relativeDrop } from '../../shared/metrics/scores';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
/** handWeightedModel's probabilities when the mean activations are (a0, a1): logits = a W + b. */
const handProbabilities = (a0: number, a1: number): number[] => [2 * a0 - 2 * a1 + 1, a0 + a1, 3 * a1 - 5].map(sigmoid);

describe('per-detection metrics (hand-computed)', () => {
  it('IC, AD, AR, ADO, ARO and the F1 scores of one detection among two', () => {
    const original = [0.8, 0.5, 0.1];
    const kept = [0.9, 0.25, 0.3]; // label 0 rises: IC 1, AD 0; label 1 halves: ADO 0.5
    const removed = [0.2, 0.5, 0.0]; // label 0 drops by 75%: AR 0.75; label 1 unchanged: ARO 0
    const scores = detectionScores(original, kept, removed, 0, [0, 1]);
    expect(scores.ic).toBe(1);
    expect(scores.ad).toBe(0);
    expect(scores.ar).toBeCloseTo(0.75, 12);
    expect(scores.ado).toBeCloseTo(0.5, 12);
    expect(scores.aro).toBe(0);
    expect(scores.f1Plus).toBeCloseTo((2 * 0.75 * 0.5) / 1.25, 12);
    expect(scores.f1Minus).toBe(0);
  });

  it('one detection: no ADO, ARO or F1; zero-probability labels and all-zero inputs never give NaN', () => {
    const single = detectionScores([0.6, 0.1], [0.3, 0.1], [0.6, 0.1], 0, [0]);
    expect(single).toEqual({ ic: 0, ad: 0.5, ar: 0, ado: null, aro: null, f1Plus: null, f1Minus: null });
    const zero = detectionScores([0, 0], [0, 0], [0, 0], 0, [0, 1]);
    expect(Object.values(zero).every((value) => value !== null && Number.isFinite(value))).toBe(true);
    expect(relativeDrop(0, 0.5)).toBe(0);
    expect(fBeta(0, 0)).toBe(0);
    expect(fBeta(1, 1)).toBe(1);
    expect(fBeta(0.5, 1, 2)).toBeCloseTo((5 * 0.5) / (4 + 0.5), 12);
  });
});

describe('aggregation', () => {
  it('per class (sum over its detections / their number, x 100), then the macro average; supports per metric', () => {
    const aggregator = new FaithfulnessAggregator(3);
    aggregator.add(0, { ic: 1, ad: 0.2, ar: 0.5, ado: 0.4, aro: 0.1, f1Plus: 0.4, f1Minus: 0.1 });
    aggregator.add(0, { ic: 0, ad: 0.4, ar: 0.3, ado: null, aro: null, f1Plus: null, f1Minus: null });
    aggregator.add(2, { ic: 1, ad: 0, ar: 1, ado: 0.2, aro: 0.3, f1Plus: 0.3, f1Minus: 0 });
    const report = aggregator.report();
    expect(report.ic.perClass).toEqual([50, null, 100]);
    expect(report.ic.support).toEqual([2, 0, 1]);
    expect(report.ic.macro).toBe(75);
    expect(report.ad.perClass[0]).toBeCloseTo(30, 10);
    expect(report.ado.perClass[0]).toBeCloseTo(40, 10);
    expect(report.ado.support).toEqual([1, 0, 1]);
    expect(report.ado.macro).toBeCloseTo(30, 10);
    expect(new FaithfulnessAggregator(2).report().ic.macro).toBeNull();
    expect(() => aggregator.add(3, { ic: 0, ad: 0, ar: 0, ado: null, aro: null, f1Plus: null, f1Minus: null })).toThrow(RangeError);
    expect(() => aggregator.add(0, { ic: Number.NaN, ad: 0, ar: 0, ado: null, aro: null, f1Plus: null, f1Minus: null })).toThrow(
      RangeError,
    );
  });
});

describe('masked forward passes (hand-weighted model)', () => {
  let adapter: ClassifierAdapter;
  let input: tf.Tensor4D;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    adapter = new ClassifierAdapter(handWeightedModel());
    input = handWeightedInput();
  });
  afterAll(() => {
    input.dispose();
    adapter.dispose();
  });

  it('p(x * M) and p(x * (1 - M)) for each map, in batches, leaking nothing', async () => {
    // Map 0 keeps the top-left pixel (channel 0's light); map 1 keeps half of the bottom-right one.
    const maps = tf.tensor3d([1, 0, 0, 0, 0, 0, 0, 0.5], [2, 2, 2]);
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const { kept, removed } = await maskedProbabilities(adapter, input, maps, { batchSize: 3, onProgress: (done) => progress.push(done) });
    expect(tf.memory().numTensors).toBe(before);
    maps.dispose();
    expect(progress, 'one measuring row, then batches of up to 3 (core/batching.ts)').toEqual([1, 4]);
    const expectRow = (actual: Float32Array, row: number, expected: number[]): void => {
      expected.forEach((value, k) => expect(actual[row * 3 + k]).toBeCloseTo(value, 6));
    };
    expectRow(kept, 0, handProbabilities(0.25, 0));
    expectRow(removed, 0, handProbabilities(0, 0.25));
    expectRow(kept, 1, handProbabilities(0, 0.125));
    expectRow(removed, 1, handProbabilities(0.25, 0.125));
  });

  it('refuses maps of another size than the input', async () => {
    const maps = tf.zeros([1, 3, 3]) as tf.Tensor3D;
    await expect(maskedProbabilities(adapter, input, maps)).rejects.toThrow(RangeError);
    maps.dispose();
  });

  it('deletion and insertion curves remove / add pixels in the order of the map', async () => {
    // Order: top-left (0.9), bottom-right (0.5), then the two zeros (row-major).
    const map = tf.tensor2d([0.9, 0, 0, 0.5], [2, 2]);
    const before = tf.memory().numTensors;
    const curves = await saliencyCurves(adapter, input, map, 0, { steps: 4, batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    map.dispose();
    expect(curves.fractions).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const expectedDeletion = [
      handProbabilities(0.25, 0.25),
      handProbabilities(0, 0.25),
      handProbabilities(0, 0),
      handProbabilities(0, 0),
      handProbabilities(0, 0),
    ].map((p) => p[0]!);
    const expectedInsertion = [
      handProbabilities(0, 0),
      handProbabilities(0.25, 0),
      handProbabilities(0.25, 0.25),
      handProbabilities(0.25, 0.25),
      handProbabilities(0.25, 0.25),
    ].map((p) => p[0]!);
    curves.deletion.forEach((value, i) => expect(value).toBeCloseTo(expectedDeletion[i]!, 6));
    curves.insertion.forEach((value, i) => expect(value).toBeCloseTo(expectedInsertion[i]!, 6));
    expect(curves.deletionAuc).toBeCloseTo(areaUnderCurve(curves.fractions, expectedDeletion), 6);
    expect(areaUnderCurve([0, 0.5, 1], [1, 1, 0])).toBeCloseTo(0.75, 12);
  });
});
