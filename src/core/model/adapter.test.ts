import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { tinyClassifier, tinyInput } from '../../testing/tiny-models';
import { isStudioError } from '../../shared/errors';
import { ClassifierAdapter } from './adapter';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('ClassifierAdapter', () => {
  it('finds the last 4-D layer, the GAP -> Dense head and exposes the logits of a fused softmax', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const model = tinyClassifier('gap-dense-softmax');
    const adapter = new ClassifierAdapter(model);
    expect(adapter.targetLayer).toBe('target');
    expect(adapter.targetShape).toEqual([8, 8, 6]);
    expect(adapter.headKind).toBe('gap-dense');
    expect(adapter.headActivation).toBe('softmax');
    expect(adapter.inputShape).toEqual([16, 16, 3]);
    expect(adapter.numClasses).toBe(5);
    expect(adapter.candidates.map((candidate) => candidate.name)).toEqual(['conv_a', 'conv_b', 'target']);
    const input = tinyInput();
    const before = tf.memory().numTensors;
    const forward = adapter.forward(input);
    const probs = adapter.probabilities(forward.logits);
    const modelOutput = model.predict(input) as tf.Tensor;
    // softmax(logits) is what the model itself outputs: the logits are the pre-activation scores.
    expect(Array.from(await probs.data()).map((v) => +v.toFixed(5))).toEqual(
      Array.from(await modelOutput.data()).map((v) => +v.toFixed(5)),
    );
    tf.dispose([forward.activations, forward.logits, probs, modelOutput]);
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
    adapter.dispose();
  });

  it('peels a separate final softmax Activation off a linear Dense, through Dropout', async () => {
    const model = tinyClassifier('gap-dense-linear-then-softmax');
    const adapter = new ClassifierAdapter(model);
    expect(adapter.headKind).toBe('gap-dense');
    expect(adapter.headActivation).toBe('softmax');
    const input = tinyInput();
    const forward = adapter.forward(input);
    const probs = adapter.probabilities(forward.logits);
    const modelOutput = model.predict(input) as tf.Tensor;
    const difference = tf.max(tf.abs(tf.sub(probs, modelOutput)));
    expect((await difference.data())[0]).toBeLessThan(1e-6);
    tf.dispose([forward.activations, forward.logits, probs, modelOutput, difference, input]);
    adapter.dispose();
  });

  it('treats other heads as generic and rebuilds them from the target activations', async () => {
    for (const head of ['gap-dense-dense', 'flatten-dense'] as const) {
      const model = tinyClassifier(head);
      const adapter = new ClassifierAdapter(model);
      expect(adapter.headKind).toBe('generic');
      expect(adapter.classWeights).toBeNull();
      const input = tinyInput();
      const forward = adapter.forward(input);
      const probs = adapter.probabilities(forward.logits);
      const modelOutput = model.predict(input) as tf.Tensor;
      const difference = tf.max(tf.abs(tf.sub(probs, modelOutput)));
      expect((await difference.data())[0]).toBeLessThan(1e-6);
      tf.dispose([forward.activations, forward.logits, probs, modelOutput, difference]);
      // Leak check on the adapter's own code (TF.js's predict() may cache on its first call).
      const before = tf.memory().numTensors;
      const again = adapter.forward(input);
      const againProbs = adapter.probabilities(again.logits);
      tf.dispose([again.activations, again.logits, againProbs]);
      expect(tf.memory().numTensors).toBe(before);
      input.dispose();
      adapter.dispose();
    }
    expect(tinyClassifier('flatten-dense').layers.find((l) => l.name === 'predictions')).toBeDefined();
  });

  it('lets the user pick another separating layer, and refuses one that does not exist', () => {
    const model = tinyClassifier();
    const adapter = new ClassifierAdapter(model, { targetLayer: 'conv_a' });
    expect(adapter.targetShape).toEqual([16, 16, 4]);
    expect(adapter.headKind).toBe('generic'); // conv_b sits between conv_a and the pooling
    expect(() => new ClassifierAdapter(model, { targetLayer: 'nope' })).toThrowError(/not a usable target layer/);
    adapter.dispose();
  });

  it('rejects models it cannot explain with a clear reason', () => {
    const denseInput = tf.input({ shape: [8] });
    const denseOnly = tf.model({
      inputs: denseInput,
      outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(denseInput) as tf.SymbolicTensor,
    });
    expect(() => new ClassifierAdapter(denseOnly)).toThrowError(/image input/);

    const imageInput = tf.input({ shape: [8, 8, 3] });
    const flat = tf.layers.flatten().apply(imageInput) as tf.SymbolicTensor;
    const noConv = tf.model({ inputs: imageInput, outputs: tf.layers.dense({ units: 3 }).apply(flat) as tf.SymbolicTensor });
    try {
      new ClassifierAdapter(noConv);
      expect.unreachable();
    } catch (error) {
      expect(isStudioError(error, 'no-conv-layer')).toBe(true);
    }

    const a = tf.input({ shape: [8, 8, 3] });
    const b = tf.input({ shape: [8, 8, 3] });
    const added = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(added) as tf.SymbolicTensor;
    const twoInputs = tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 2 }).apply(pooled) as tf.SymbolicTensor });
    expect(() => new ClassifierAdapter(twoInputs)).toThrowError(/2 inputs/);
    tf.dispose([denseOnly, noConv, twoInputs].flatMap((m) => m.weights.map((w) => w.read())));
  });

  it('frees every weight on dispose', () => {
    const before = tf.memory().numTensors;
    const adapter = new ClassifierAdapter(tinyClassifier('gap-dense-dense'));
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
