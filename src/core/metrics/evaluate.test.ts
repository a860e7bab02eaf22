import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { ClassifierAdapter } from '../model/adapter';
import { initNodeBackend } from '../../node/backend';
import { handWeightedInput, handWeightedModel } from '../../testing/tiny-models';
import { evaluateImage, type EvaluationSettings } from './evaluate';
import { aggregateEvaluations } from '../../shared/metrics/report';
import { detectionScores } from '../../shared/metrics/scores';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
/** handWeightedModel's probabilities when the mean activations are (a0, a1). */
const hp = (a0: number, a1: number): number[] => [2 * a0 - 2 * a1 + 1, a0 + a1, 3 * a1 - 5].map(sigmoid);

const SETTINGS: EvaluationSettings = {
  methods: ['cam'],
  detection: { kind: 'sigmoid', threshold: 0.5 },
  batchSize: 4,
  pointingTolerance: 0,
  backgroundThreshold: 0.5,
};

describe('evaluateImage / aggregateEvaluations (hand-weighted model)', () => {
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

  it('scores each detected label with its CAM (maps derived by hand), and the mask with the pointing game and mIoU', async () => {
    // CAM of label 0 = relu(2 A0 - 2 A1) = top-left only; CAM of label 1 = A0 + A1 = top-left and bottom-right.
    const mask = { width: 2, height: 2, data: new Uint8Array([1, 0, 0, 2]) };
    const before = tf.memory().numTensors;
    const record = await evaluateImage(adapter, input, 'hand.png', SETTINGS, { mask });
    expect(tf.memory().numTensors).toBe(before);
    const original = hp(0.25, 0.25);
    expect(record.detected).toEqual([0, 1]);
    expect(record.probabilities[0]).toBeCloseTo(original[0]!, 6);
    const expected0 = detectionScores(original, hp(0.25, 0), hp(0, 0.25), 0, [0, 1]);
    const expected1 = detectionScores(original, hp(0.25, 0.25), hp(0, 0), 1, [0, 1]);
    for (const [label, expected] of [
      ['0', expected0],
      ['1', expected1],
    ] as const) {
      for (const [metric, value] of Object.entries(expected))
        expect(record.scores['cam']![label]![metric as keyof typeof expected], `${label} ${metric}`).toBeCloseTo(value as number, 5);
    }
    // Label 1's map peaks first at the top-left (class 0's object): a miss at tolerance 0; label 0 hits.
    expect(record.localisation?.classes).toEqual([0, 1]);
    expect(record.localisation?.perMethod['cam']?.hits).toEqual({ 0: true, 1: false });

    const report = aggregateEvaluations([record, { ...record, name: 'again.png' }], ['cam'], 3, 0.5);
    expect(report.images).toBe(2);
    expect(report.detections).toBe(4);
    expect(report.faithfulness['cam']!.ar.support).toEqual([2, 2, 0]);
    expect(report.faithfulness['cam']!.ar.perClass[0]).toBeCloseTo(100 * expected0.ar, 4);
    expect(report.faithfulness['cam']!.ar.macro).toBeCloseTo((100 * expected0.ar + 100 * expected1.ar) / 2, 4);
    expect(report.localisation?.['cam']?.pointing.perClass).toEqual([100, 0, null]);
    // The priors label every pixel right (both maps are 1 at the top-left: the first class wins there).
    expect(report.localisation?.['cam']?.segmentation.meanIou).toBeCloseTo(100, 6);
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('with curveSteps, records the deletion and insertion curves of each detected label and averages their areas', async () => {
    const before = tf.memory().numTensors;
    const record = await evaluateImage(adapter, input, 'hand.png', { ...SETTINGS, curveSteps: 4 });
    expect(tf.memory().numTensors).toBe(before);
    const curve = record.curves?.['cam']?.['0'];
    expect(curve?.fractions).toEqual([0, 0.25, 0.5, 0.75, 1]);
    // Label 0's CAM is the top-left pixel: deleting it first leaves only channel 1's light (mean A = (0, 0.25)).
    expect(curve?.deletion[1]).toBeCloseTo(hp(0, 0.25)[0]!, 6);
    expect(curve?.insertion[1]).toBeCloseTo(hp(0.25, 0)[0]!, 6);
    const report = aggregateEvaluations([record], ['cam'], 3, 0.5);
    expect(report.curves?.['cam']?.count).toBe(2);
    const mean = (record.curves!['cam']!['0']!.deletionAuc + record.curves!['cam']!['1']!.deletionAuc) / 2;
    expect(report.curves?.['cam']?.deletionAuc).toBeCloseTo(mean, 12);
  });

  it("reuses the caller's forward pass (same record, the caller's tensors left alone)", async () => {
    const forward = adapter.forward(input);
    const before = tf.memory().numTensors;
    const reused = await evaluateImage(adapter, input, 'hand.png', SETTINGS, { forward });
    expect(tf.memory().numTensors).toBe(before);
    expect(forward.logits.isDisposed).toBe(false);
    const fresh = await evaluateImage(adapter, input, 'hand.png', SETTINGS);
    expect({ ...reused, ms: 0 }).toEqual({ ...fresh, ms: 0 });
    tf.dispose([forward.activations, forward.logits]);
  });

  it('a cancellation between steps leaks nothing', async () => {
    const before = tf.memory().numTensors;
    let calls = 0;
    const checkpoint = (): void => {
      calls += 1;
      if (calls === 2) throw new StudioError('cancelled', 'cancelled');
    };
    await expect(evaluateImage(adapter, input, 'hand.png', SETTINGS, { checkpoint })).rejects.toThrow(/cancelled/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('nothing detected: an empty record, no NaN in the report', async () => {
    const record = await evaluateImage(adapter, input, 'none.png', { ...SETTINGS, detection: { kind: 'sigmoid', threshold: 0.99 } });
    expect(record.detected).toEqual([]);
    expect(record.scores).toEqual({});
    const report = aggregateEvaluations([record], ['cam'], 3, 0.5);
    expect(report.detections).toBe(0);
    expect(report.faithfulness['cam']!.ic.macro).toBeNull();
  });
});
