import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../node/backend';
import { preprocess } from './preprocess';
import { detectedSet, parseDetectionRule } from '../shared/detection';
import { topK } from '../shared/predictions';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('preprocess', () => {
  const pixel = () => tf.tensor4d([255, 128, 0], [1, 1, 1, 3], 'int32');
  it.each([
    ['caffe', [0 - 103.939, 128 - 116.779, 255 - 123.68]], // RGB -> BGR, minus the BGR mean
    ['tf', [1, 128 / 127.5 - 1, -1]],
    ['torch', [(1 - 0.485) / 0.229, (128 / 255 - 0.456) / 0.224, (0 - 0.406) / 0.225]],
    ['unit', [1, 128 / 255, 0]],
  ] as const)('%s', async (preset, expected) => {
    const rgb = pixel();
    const before = tf.memory().numTensors;
    const out = preprocess(rgb, preset);
    const values = Array.from(await out.data());
    values.forEach((value, index) => expect(value).toBeCloseTo(expected[index] as number, 4));
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    rgb.dispose();
  });

  it('grayscale models get one channel', async () => {
    const rgb = pixel();
    const out = preprocess(rgb, 'unit', 1);
    expect(out.shape).toEqual([1, 1, 1, 1]);
    expect((await out.data())[0]).toBeCloseTo(383 / 3 / 255, 5);
    tf.dispose([rgb, out]);
  });
});

describe('predictions', () => {
  it('topK orders by probability and keeps the logits', () => {
    expect(topK([0.1, 0.5, 0.4], [1, 3, 2], 2)).toEqual([
      { label: 1, prob: 0.5, logit: 3 },
      { label: 2, prob: 0.4, logit: 2 },
    ]);
  });
  it('detected set: sigmoid threshold, probability threshold, top-k, ground truth', () => {
    const probs = [0.1, 0.2, 0.3, 0.4];
    const logits = [2, -1, 0.5, -3];
    expect(detectedSet(parseDetectionRule('topk:3'), probs, logits)).toEqual([3, 2, 1]);
    expect(detectedSet(parseDetectionRule('prob:0.25'), probs, logits)).toEqual([3, 2]);
    expect(detectedSet(parseDetectionRule('sigmoid:0.5'), probs, logits)).toEqual([2, 0]); // sigmoid(2), sigmoid(0.5) > 0.5
    expect(detectedSet(parseDetectionRule('prob:0.9'), probs, logits)).toEqual([]);
    expect(detectedSet(parseDetectionRule('gt:1,1,3'), probs, logits)).toEqual([1, 3]);
    expect(() => parseDetectionRule('topk:0')).toThrowError(/topk:K/);
    expect(() => parseDetectionRule('magic')).toThrowError(/Cannot read/);
  });
});
