import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { GroupedConv2D, RadixSoftmax, RadixSum, RadixWeightedSum, registerSplitAttentionLayers } from './split-attention-layers';

beforeAll(async () => {
  await initNodeBackend('wasm');
  registerSplitAttentionLayers();
});

describe('split-attention layers', () => {
  it('GroupedConv2D: each filter block sees its channel block (against one conv2d per group), and a saved model loads again', async () => {
    const before = tf.memory().numTensors;
    const input = tf.input({ shape: [6, 6, 4] });
    const layer = new GroupedConv2D({ filters: 6, kernelSize: 3, groups: 2, padding: 'same', useBias: true, seed: 3, name: 'grouped' });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    const kernel = tf.clone(layer.getWeights()[0] as tf.Tensor4D); // (getWeights gives the variables themselves)
    expect(kernel.shape).toEqual([3, 3, 2, 6]);
    const bias = tf.tensor1d([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    layer.setWeights([kernel, bias]);
    const x = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const got = model.predict(x) as tf.Tensor;
    const want = tf.tidy(() => {
      const [x0, x1] = tf.split(x, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      const [k0, k1] = tf.split(kernel, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      return tf.add(tf.concat([tf.conv2d(x0, k0, 1, 'same'), tf.conv2d(x1, k1, 1, 'same')], 3), bias);
    });
    expect(maxAbsDifference(await got.data(), await want.data())).toBeLessThan(1e-5);

    // Round trip through model.json: the registered class is rebuilt from its config.
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(
      tf.io.withSaveHandler(
        async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const again = loaded.predict(x) as tf.Tensor;
    expect(maxAbsDifference(await again.data(), await want.data())).toBeLessThan(1e-5);
    expect(loaded.getLayer('grouped').getClassName()).toBe('GroupedConv2D');
    tf.dispose([kernel, bias, x, got, want, again]);
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('RadixSoftmax: a softmax over the splits per (group, channel), laid out split-major as ResNeSt rSoftmax', async () => {
    // Radix 2, cardinality 2, 2 channels per group: fc2 logits laid out (k, r, j).
    const logits = tf.tensor2d([[1, 2, 3, 5, -1, 0, 4, 4]]);
    const out = tf.tidy(() => new RadixSoftmax({ radix: 2, cardinality: 2 }).apply(logits) as tf.Tensor);
    const values = Array.from(await out.data());
    const softmax2 = (a: number, b: number): [number, number] => [
      Math.exp(a) / (Math.exp(a) + Math.exp(b)),
      Math.exp(b) / (Math.exp(a) + Math.exp(b)),
    ];
    // (k, j) pairs: logits[k][r][j] = flat[k * 4 + r * 2 + j]; output[r][k][j] = flat[r * 4 + k * 2 + j].
    const flat = [1, 2, 3, 5, -1, 0, 4, 4];
    const want = new Array<number>(8);
    for (let k = 0; k < 2; k += 1)
      for (let j = 0; j < 2; j += 1) {
        const [a0, a1] = softmax2(flat[k * 4 + j]!, flat[k * 4 + 2 + j]!);
        want[k * 2 + j] = a0;
        want[4 + k * 2 + j] = a1;
      }
    expect(maxAbsDifference(values, want)).toBeLessThan(1e-6);
    tf.dispose([logits, out]);
  });

  it('RadixSum and RadixWeightedSum combine the splits channel by channel, and give gradients', async () => {
    const before = tf.memory().numTensors;
    const splits = tf.tensor4d([1, 2, 10, 20], [1, 1, 1, 4]); // radix 2, C = 2: U_0 = [1, 2], U_1 = [10, 20]
    const attention = tf.tensor2d([[0.25, 0.5, 0.75, 0.5]]);
    const sum = tf.tidy(() => new RadixSum({ radix: 2 }).apply(splits) as tf.Tensor);
    expect(Array.from(await sum.data())).toEqual([11, 22]);
    const weighted = new RadixWeightedSum({ radix: 2 });
    const out = tf.tidy(() => weighted.apply([splits, attention]) as tf.Tensor);
    expect(Array.from(await out.data())).toEqual([0.25 * 1 + 0.75 * 10, 0.5 * 2 + 0.5 * 20]);
    const gradient = tf.grad((a: tf.Tensor) => tf.sum(weighted.apply([splits, a]) as tf.Tensor))(attention);
    expect(Array.from(await gradient.data())).toEqual([1, 2, 10, 20]);
    tf.dispose([splits, attention, sum, out, gradient]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
