import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { tinyBiasClassifier, tinyInput } from '../../testing/tiny-models';
import { isStudioError } from '../../shared/errors';
import { normalizeMaps } from '../maps/filters';
import { ClassifierAdapter, type ForwardPass } from '../model/adapter';
import type { Classifier } from '../model/classifier';
import { ExplainContext } from './context';
import { disposeMethodMaps, explain } from './explain';
import { fullGradients, fullGradMaps, type FullGradScaling } from './fullgrad';

interface Fixture {
  adapter: ClassifierAdapter;
  input: tf.Tensor4D;
  forward: ForwardPass;
}
function fixture(model: tf.LayersModel, targetLayer?: string): Fixture {
  const adapter = new ClassifierAdapter(model, targetLayer === undefined ? {} : { targetLayer });
  const input = tf.tidy(() => tf.mul(tf.sub(tinyInput(), 0.4), 3) as tf.Tensor4D); // signed inputs: every ReLU pattern occurs
  return { adapter, input, forward: adapter.forward(input) };
}
function release(f: Fixture, disposeModel = true): void {
  tf.dispose([f.input, f.forward.activations, f.forward.logits]);
  if (disposeModel) f.adapter.dispose();
}
const contextOf = (f: Fixture, labels: number[], adapter: Classifier = f.adapter) =>
  new ExplainContext({ adapter, input: f.input, forward: f.forward, labels, gradientPath: 'autodiff' });

/** FullGrad through the whole pipeline (ReLU -> normalise): `[N, H, W]` normalised and raw, flat. */
async function runFullGrad(f: Fixture, labels: number[], adapter: Classifier = f.adapter) {
  const [result] = await explain(adapter, f.input, f.forward, { labels, methods: ['fullgrad'] });
  try {
    return {
      shape: result!.normalized.shape,
      normalized: await result!.normalized.data(),
      raw: await result!.raw.data(),
      resolution: result!.resolution,
    };
  } finally {
    disposeMethodMaps(result!);
  }
}

let bn: Fixture;
let plain: Fixture;
beforeAll(async () => {
  await initNodeBackend('wasm');
  bn = fixture(tinyBiasClassifier('batchnorm'));
  plain = fixture(tinyBiasClassifier('no-bias'));
});
afterAll(() => {
  release(bn);
  release(plain);
});

describe('FullGrad bias taps', () => {
  it('finds every 4-D biased layer with its effective bias; none in a model without biases', async () => {
    const taps = tf.tidy(() => bn.adapter.biasTapsOf(bn.input).map((tap) => ({ ...tap, bias: Array.from(tap.bias.dataSync()) })));
    expect(taps.map((tap) => [tap.layer, tap.shape])).toEqual([
      ['conv_1', [16, 16, 4]],
      ['conv_2', [8, 8, 6]],
      ['bn_2', [8, 8, 6]],
    ]);
    expect(taps[0]!.bias).toEqual([0.1, 0.1, 0.1, 0.1].map(Math.fround));
    // BatchNormalization in inference: beta - moving_mean * gamma / sqrt(moving_var + eps), with the ramps of tinyBiasClassifier.
    const expected = [0, 1, 2, 3, 4, 5].map(
      (i) => -0.3 + 0.12 * i - ((-0.2 + 0.09 * i) * (0.8 + 0.1 * i)) / Math.sqrt(0.5 + 0.3 * i + 1e-3),
    );
    expect(maxAbsDifference(taps[2]!.bias, expected)).toBeLessThan(1e-6);
    expect(tf.tidy(() => plain.adapter.biasTapsOf(plain.input).length)).toBe(0);
  });

  it('logitsWithBiasTaps with zero deltas equals the forward pass', async () => {
    const logits = tf.tidy(() => {
      const deltas = bn.adapter.biasTapsOf(bn.input).map((tap) => tf.zeros([1, ...tap.shape]) as tf.Tensor4D);
      return bn.adapter.logitsWithBiasTaps(bn.input, deltas);
    });
    expect(maxAbsDifference(await logits.data(), await bn.forward.logits.data())).toBeLessThan(1e-5);
    logits.dispose();
  });

  it('(b) the bias-gradients dS/dz_l equal autodiff at that layer as the target, and a finite difference on a fused-ReLU bias', async () => {
    const labels = [0, 3];
    const context = contextOf(bn, labels);
    const tapped = tf.tidy(() => {
      const { taps } = fullGradients(context);
      return Object.fromEntries(taps.map((tap) => [tap.layer, tap.gradient])) as Record<string, tf.Tensor4D>;
    });
    // conv_2 (linear) and bn_2 (pre-activation) are separating 4-D layers: retarget there, dS/dA by autodiff of the head.
    for (const layer of ['conv_2', 'bn_2']) {
      const at = fixture(tinyBiasClassifier('batchnorm'), layer);
      const direct = contextOf(at, labels);
      const gradients = await direct.gradients().data(); // [N, 8, 8, 6]
      expect(maxAbsDifference(await tapped[layer]!.data(), gradients)).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(gradients).map(Math.abs))).toBeGreaterThan(1e-3);
      direct.dispose();
      release(at);
    }
    // conv_1 has a fused ReLU: z is its pre-activation output. dS/db_k = sum_ij dS/dz_ijk, by a central difference on b.
    const perChannel = (await tf.tidy(() => tf.sum(tapped['conv_1']!, [1, 2])).array()) as number[][]; // [N, 4]
    const model = tinyBiasClassifier('batchnorm');
    const conv = model.getLayer('conv_1');
    const [kernel, bias] = conv.getWeights().map((weight) => weight.clone()) as [tf.Tensor4D, tf.Tensor1D];
    const eps = 1e-3;
    const logitsWithBiasShift = (k: number, shift: number): number[] => {
      const shifted = tf.tidy(() => tf.add(bias, tf.mul(tf.oneHot(k, 4).toFloat(), shift)) as tf.Tensor1D);
      conv.setWeights([kernel, shifted]);
      shifted.dispose();
      const logits = tf.tidy(() => (model.predict(bn.input) as tf.Tensor).log()); // softmax -> log: logits up to a constant per row
      const values = Array.from(logits.dataSync());
      logits.dispose();
      return values;
    };
    for (let k = 0; k < 4; k += 1) {
      const up = logitsWithBiasShift(k, eps);
      const down = logitsWithBiasShift(k, -eps);
      // log-softmax differences between labels cancel the constant: compare d(S_0 - S_3)/db_k.
      const finite = (up[0]! - up[3]! - (down[0]! - down[3]!)) / (2 * eps);
      const tappedValue = perChannel[0]![k]! - perChannel[1]![k]!;
      expect(Math.abs(finite - tappedValue)).toBeLessThan(2e-3 + 1e-2 * Math.abs(tappedValue));
    }
    conv.setWeights([kernel, bias]);
    tf.dispose([kernel, bias]);
    model.dispose();
    tf.dispose(Object.values(tapped));
    context.dispose();
  });

  it('completeness (Eq. 3): S_c = sum(dS/dx * x) + sum_l sum(dS/dz_l * b_l) + the logits bias', async () => {
    const labels = [0, 3, 4];
    const context = contextOf(bn, labels);
    const decomposed = tf.tidy(() => {
      const { inputGradients, taps } = fullGradients(context);
      let total = tf.sum(tf.mul(inputGradients, bn.input), [1, 2, 3]); // [N]
      for (const tap of taps) total = tf.add(total, tf.sum(tf.mul(tap.gradient, tap.bias), [1, 2, 3]));
      const denseBias = bn.adapter.model.getLayer('predictions').getWeights()[1] as tf.Tensor1D;
      return tf.add(total, tf.gather(denseBias, labels));
    });
    const logits = await bn.forward.logits.data();
    const expected = labels.map((label) => logits[label]!);
    expect(maxAbsDifference(await decomposed.data(), expected)).toBeLessThan(1e-4);
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e-2);
    decomposed.dispose();
    context.dispose();
  });
});

describe('FullGrad maps', () => {
  it('(a) without biases it reduces to normalise(sum_c |dS/dx * x|)', async () => {
    const labels = [1, 2];
    const maps = await runFullGrad(plain, labels);
    expect(maps.resolution).toBe('input');
    expect(maps.shape).toEqual([2, 16, 16]);
    const context = contextOf(plain, labels);
    const expected = tf.tidy(() => normalizeMaps(tf.sum(tf.abs(tf.mul(context.inputGradients(), plain.input)), 3) as tf.Tensor3D));
    expect(maxAbsDifference(maps.normalized, await expected.data())).toBeLessThan(1e-5);
    expected.dispose();
    context.dispose();
  });

  it("the authors' joint scaling agrees on the input term; per-channel scaling differs", async () => {
    const context = contextOf(plain, [1]);
    const [summed, joint, perChannel] = tf.tidy(() =>
      (['summed', 'joint', 'per-channel'] as FullGradScaling[]).map((scaling) => normalizeMaps(fullGradMaps(context, scaling))),
    );
    expect(maxAbsDifference(await summed!.data(), await joint!.data())).toBeLessThan(1e-5);
    expect(maxAbsDifference(await summed!.data(), await perChannel!.data())).toBeGreaterThan(1e-3);
    tf.dispose([summed!, joint!, perChannel!]);
    context.dispose();
  });

  it('(c, d) maps are finite, in [0, 1], computed per label in one batch, and nothing leaks', async () => {
    await runFullGrad(bn, [0, 3]); // warm-up
    const before = tf.memory().numTensors;
    const both = await runFullGrad(bn, [0, 3]);
    expect(tf.memory().numTensors).toBe(before);
    expect(both.shape).toEqual([2, 16, 16]);
    expect(Array.from(both.normalized).every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    expect(Math.max(...Array.from(both.normalized))).toBeCloseTo(1, 5);
    const alone = await runFullGrad(bn, [3]);
    expect(maxAbsDifference(alone.normalized, both.normalized.slice(256))).toBeLessThan(1e-5);
    // The bias terms matter: the map differs from the input-gradient term alone.
    const context = contextOf(bn, [3]);
    const inputTerm = tf.tidy(() => normalizeMaps(tf.sum(tf.abs(tf.mul(context.inputGradients(), bn.input)), 3) as tf.Tensor3D));
    expect(maxAbsDifference(alone.normalized, await inputTerm.data())).toBeGreaterThan(1e-2);
    inputTerm.dispose();
    context.dispose();
  });

  it('is unavailable, with a clear error and no leak, where the biases cannot be tapped', async () => {
    const before = tf.memory().numTensors;
    // A classifier that does not expose its biases (another model format).
    const opaque = new Proxy(bn.adapter, {
      get: (target, key) => (key === 'biasTapsOf' || key === 'logitsWithBiasTaps' ? undefined : Reflect.get(target, key)),
    }) as Classifier;
    await expect(explain(opaque, bn.input, bn.forward, { labels: [0], methods: ['fullgrad'] })).rejects.toSatisfy(
      (error) => isStudioError(error, 'method-unavailable') && /FullGrad/.test((error as Error).message),
    );
    // A depthwise convolution with a bias and a fused ReLU: its pre-activation output is not reachable.
    const input = tf.input({ shape: [16, 16, 3] });
    const depthwise = tf.layers
      .depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', name: 'dw' })
      .apply(input) as tf.SymbolicTensor;
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'pw' }).apply(depthwise) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
    const f = fixture(tf.model({ inputs: input, outputs: output }));
    await expect(explain(f.adapter, f.input, f.forward, { labels: [0], methods: ['fullgrad'] })).rejects.toSatisfy(
      (error) => isStudioError(error, 'method-unavailable') && /"dw".*fused "relu"/.test((error as Error).message),
    );
    release(f);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('gradient batch size', () => {
  it('keeps the requested batch for small inputs and stays within about two 224-px inputs for large ones', async () => {
    const { gradientBatchSize } = await import('./saliency');
    expect(gradientBatchSize(8, 1, 48, 48)).toBe(8);
    expect(gradientBatchSize(8, 3, 48, 48)).toBe(2);
    expect(gradientBatchSize(8, 1, 224, 224)).toBe(2);
    expect(gradientBatchSize(8, 3, 224, 224)).toBe(1);
    expect(gradientBatchSize(8, 12, 512, 512)).toBe(1);
  });
});
