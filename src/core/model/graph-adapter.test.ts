import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { loadClassifierFromDirectory, readArrayBuffer } from '../../node/files';
import { maxAbsDifference, repoRoot } from '../../testing/golden';
import { isStudioError, type StudioErrorCode } from '../../shared/errors';
import { ExplainContext } from '../methods/context';
import { disposeMethodMaps, explain, type ExplainRequest } from '../methods/explain';
import type { ForwardPass } from './classifier';
import { GraphClassifierAdapter, type GraphNodeDef } from './graph-adapter';
import { loadClassifier } from './load';

// Hand-written graph models (scripts/make-graph-model.mjs): input [-1,16,16,3] -> conv 'features' (8 ch)
// -> conv 'target' (16 ch) -> Mean [1,2] -> MatMul [16,5] + bias 'logits' -> Softmax 'probs'; the generic
// variant flattens 'target' into a MatMul [4096,5] and ends Sigmoid -> Identity 'scores'.
const GAP_DIR = join(repoRoot, 'e2e', 'fixtures', 'tiny-graph');
const GENERIC_DIR = join(repoRoot, 'e2e', 'fixtures', 'tiny-graph-generic');

interface Fixture {
  adapter: GraphClassifierAdapter;
  input: tf.Tensor4D;
  forward: ForwardPass;
}

async function fixture(directory: string): Promise<Fixture> {
  const loaded = await loadClassifierFromDirectory(directory);
  expect(loaded.adapter).toBeInstanceOf(GraphClassifierAdapter);
  const adapter = loaded.adapter as GraphClassifierAdapter;
  const input = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
  return { adapter, input, forward: adapter.forward(input) };
}

function release(f: Fixture): void {
  tf.dispose([f.input, f.forward.activations, f.forward.logits]);
  f.adapter.dispose();
}

async function run(
  f: Fixture,
  request: ExplainRequest,
): Promise<Record<string, { raw: Float32Array; normalized: Float32Array; shape: number[] }>> {
  const results = await explain(f.adapter, f.input, f.forward, request);
  try {
    const out: Record<string, { raw: Float32Array; normalized: Float32Array; shape: number[] }> = {};
    for (const r of results)
      out[r.method] = {
        raw: (await r.raw.data()) as Float32Array,
        normalized: (await r.normalized.data()) as Float32Array,
        shape: r.raw.shape,
      };
    return out;
  } finally {
    results.forEach(disposeMethodMaps);
  }
}

async function expectCode(action: () => unknown, code: StudioErrorCode, message: RegExp): Promise<void> {
  try {
    await action();
  } catch (error) {
    expect(isStudioError(error, code), `${(error as Error).name}: ${(error as Error).message}`).toBe(true);
    expect((error as Error).message).toMatch(message);
    return;
  }
  expect.unreachable(`expected a ${code} error`);
}

let gap: Fixture;
let generic: Fixture;
beforeAll(async () => {
  await initNodeBackend('wasm');
  gap = await fixture(GAP_DIR);
  generic = await fixture(GENERIC_DIR);
});
afterAll(() => {
  release(gap);
  release(generic);
});

describe('GraphClassifierAdapter on a GAP -> MatMul graph', () => {
  it('finds the input, the logits behind Softmax, the last separating 4-D node and the gap-dense head', () => {
    const { adapter } = gap;
    expect(tf.getBackend()).toBe('wasm');
    expect(adapter.inputNode).toBe('input');
    expect(adapter.inputShape).toEqual([16, 16, 3]);
    expect(adapter.numClasses).toBe(5);
    expect(adapter.logitsNode).toBe('logits');
    expect(adapter.headActivation).toBe('softmax');
    expect(adapter.targetLayer).toBe('target');
    expect(adapter.targetShape).toEqual([16, 16, 16]);
    expect(adapter.headKind).toBe('gap-dense');
    expect(adapter.candidates.map((candidate) => candidate.name)).toEqual([
      'conv1/Conv2D',
      'conv1/BiasAdd',
      'features',
      'conv2/Conv2D',
      'conv2/BiasAdd',
      'target',
    ]);
    expect(adapter.candidates.find((candidate) => candidate.name === 'features')?.shape).toEqual([16, 16, 8]);
    expect(adapter.numParameters).toBe(3 * 3 * 3 * 8 + 8 + 3 * 3 * 8 * 16 + 16 + 16 * 5 + 5); // float Consts only
    expect(adapter.classWeights?.shape).toEqual([16, 5]);
    expect(adapter.classWeights).toBe(adapter.model.weights['dense/kernel']?.[0]);
  });

  it("probabilities equal the graph's own output; forward, headLogits and logitsOf agree", async () => {
    const { adapter, input, forward } = gap;
    expect(forward.activations.shape).toEqual([1, 16, 16, 16]);
    expect(forward.logits.shape).toEqual([1, 5]);
    const probs = adapter.probabilities(forward.logits);
    const output = adapter.model.predict(input) as tf.Tensor;
    const head = adapter.headLogits(forward.activations);
    const direct = adapter.logitsOf(input);
    const logits = await forward.logits.data();
    expect(maxAbsDifference(await probs.data(), await output.data())).toBeLessThan(1e-6);
    expect(maxAbsDifference(await head.data(), logits)).toBeLessThan(1e-6);
    expect(maxAbsDifference(await direct.data(), logits)).toBeLessThan(1e-6);
    tf.dispose([probs, output, head, direct]);
  });

  it('feeds a batch to the target node and differentiates through it (headLogits w.r.t. A, logitsOf w.r.t. x)', async () => {
    const { adapter, input, forward } = gap;
    const gradients = tf.tidy(() => {
      const tiled = tf.tile(forward.activations, [2, 1, 1, 1]);
      const selector = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 5).toFloat();
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(adapter.headLogits(a as tf.Tensor4D), selector)))(tiled);
    });
    expect(gradients.shape).toEqual([2, 16, 16, 16]);
    // GAP -> MatMul: dS_c/dA_ij^k = W[k, c] / (h w) everywhere.
    const expected = tf.tidy(() => {
      const w = tf.transpose(tf.gather(adapter.classWeights as tf.Tensor2D, [1, 3], 1)); // [2, K]
      return tf.tile(tf.reshape(tf.div(w, 256), [2, 1, 1, 16]), [1, 16, 16, 1]);
    });
    expect(maxAbsDifference(await gradients.data(), await expected.data())).toBeLessThan(1e-7);
    const inputGradient = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.slice(adapter.logitsOf(x as tf.Tensor4D), [0, 2], [1, 1])))(input),
    );
    expect(inputGradient.shape).toEqual([1, 16, 16, 3]);
    expect(Math.max(...Array.from(await inputGradient.data()).map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([gradients, expected, inputGradient]);
  });

  it('retargets to an earlier node (a generic head then) sharing the weights', async () => {
    const { adapter, input, forward } = gap;
    const features = adapter.retarget('features');
    expect(features.targetLayer).toBe('features');
    expect(features.targetShape).toEqual([16, 16, 8]);
    expect(features.headKind).toBe('generic');
    expect(features.classWeights).toBeNull();
    expect(features.headActivation).toBe('softmax');
    expect(features.model).toBe(adapter.model);
    const other = features.forward(input);
    expect(other.activations.shape).toEqual([1, 16, 16, 8]);
    expect(maxAbsDifference(await other.logits.data(), await forward.logits.data())).toBeLessThan(1e-6);
    const maps = await explain(features, input, other, { labels: [0], methods: ['gradcam'] });
    expect(maps[0]?.normalized.shape).toEqual([1, 16, 16]);
    maps.forEach(disposeMethodMaps);
    await expect(explain(features, input, other, { labels: [0], methods: ['cam'] })).rejects.toSatisfy((error) =>
      isStudioError(error, 'method-unavailable'),
    );
    tf.dispose([other.activations, other.logits]);
    // Back to the default target: the same gap-dense split as before.
    expect(features.retarget('target').headKind).toBe('gap-dense');
  });

  it('names an unknown or unusable target node', async () => {
    await expectCode(() => gap.adapter.retarget('no_such_node'), 'unknown-layer', /no node named "no_such_node".*target/);
    await expectCode(() => gap.adapter.retarget('gap'), 'unknown-layer', /"gap" \(op Mean\) is not a usable target/);
    await expectCode(() => gap.adapter.retarget('conv1/filter'), 'unknown-layer', /"conv1\/filter" \(op Const\)/);
    const before = tf.memory().numTensors;
    await expectCode(() => loadClassifierFromDirectory(GAP_DIR, { targetLayer: 'nope' }), 'unknown-layer', /"nope"/);
    expect(tf.memory().numTensors).toBe(before); // the model built for it was freed
  });
});

describe('explain() on a graph model', () => {
  it('runs CAM, Grad-CAM, Grad-CAM++, Score-CAM and saliency', async () => {
    const maps = await run(gap, {
      labels: [0, 2],
      methods: ['cam', 'gradcam', 'gradcampp', 'scorecam', 'saliency'],
      options: { scorecam: { variant: 'probability', batchSize: 8, maxChannels: null } },
    });
    for (const id of ['cam', 'gradcam', 'gradcampp', 'scorecam']) expect(maps[id]?.shape).toEqual([2, 16, 16]);
    expect(maps['saliency']?.shape).toEqual([2, 16, 16]);
    for (const map of Object.values(maps)) {
      expect(Array.from(map.normalized).every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
      expect(Math.max(...Array.from(map.normalized))).toBeGreaterThan(0);
    }
  });

  it('analytic and autodiff gradients agree (one autodiff pass of the graph head)', async () => {
    const make = (gradientPath: 'analytic' | 'autodiff') =>
      new ExplainContext({ ...gap, labels: [0, 2, 4], detected: [1, 2], gradientPath });
    const analytic = make('analytic');
    const autodiff = make('autodiff');
    expect(maxAbsDifference(await analytic.gradients().data(), await autodiff.gradients().data())).toBeLessThan(1e-7);
    analytic.dispose();
    autodiff.dispose();
    const a = await run(gap, { labels: [1, 3], methods: ['gradcam', 'gradcampp'], gradientPath: 'analytic' });
    const b = await run(gap, { labels: [1, 3], methods: ['gradcam', 'gradcampp'], gradientPath: 'autodiff' });
    expect(maxAbsDifference(a['gradcam']!.raw, b['gradcam']!.raw)).toBeLessThan(1e-6);
    expect(maxAbsDifference(a['gradcampp']!.normalized, b['gradcampp']!.normalized)).toBeLessThan(1e-4);
  });

  it('CAM equals Grad-CAM up to the scale 1/(h w)', async () => {
    const maps = await run(gap, { labels: [0, 1, 2, 3, 4], methods: ['cam', 'gradcam'] });
    expect(
      maxAbsDifference(
        Array.from(maps['cam']!.raw).map((v) => v / 256),
        maps['gradcam']!.raw,
      ),
    ).toBeLessThan(1e-6);
    expect(maxAbsDifference(maps['cam']!.normalized, maps['gradcam']!.normalized)).toBeLessThan(1e-4);
  });
});

describe('what the TF.js converter writes', () => {
  it('handles _FusedConv2D, _FusedMatMul, an Identity output and a serving signature', async () => {
    // The tiny graph rewritten the way the converter optimises a Keras SavedModel: conv + bias + relu fused,
    // MatMul + bias fused, the output behind Identity, inputs/outputs named by a signature.
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const json = JSON.parse(readFileSync(join(GAP_DIR, 'model.json'), 'utf8')) as {
      modelTopology: { node: GraphNodeDef[] };
      signature?: object;
    };
    const nodes = json.modelTopology.node.filter(
      (node) => !['conv2/Conv2D', 'conv2/BiasAdd', 'target', 'dense/MatMul', 'logits'].includes(node.name),
    );
    const conv1 = nodes.find((node) => node.name === 'conv1/Conv2D') as GraphNodeDef;
    nodes.push(
      {
        name: 'target',
        op: '_FusedConv2D',
        input: ['features', 'conv2/filter', 'conv2/bias'],
        attr: { ...conv1.attr, fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } }, num_args: { i: '1' }, epsilon: { f: 0 } },
      },
      {
        name: 'logits',
        op: '_FusedMatMul',
        input: ['gap', 'dense/kernel', 'dense/bias'],
        attr: {
          T: { type: 'DT_FLOAT' },
          transpose_a: { b: false },
          transpose_b: { b: false },
          fused_ops: { list: { s: [b64('BiasAdd')] } },
          num_args: { i: '1' },
          epsilon: { f: 0 },
        },
      },
      { name: 'Identity', op: 'Identity', input: ['probs'], attr: { T: { type: 'DT_FLOAT' } } },
    );
    json.modelTopology.node = nodes;
    json.signature = {
      inputs: {
        image: {
          name: 'input:0',
          dtype: 'DT_FLOAT',
          tensorShape: { dim: [{ size: '-1' }, { size: '16' }, { size: '16' }, { size: '3' }] },
        },
      },
      outputs: { probabilities: { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '5' }] } } },
    };
    const before = tf.memory().numTensors;
    const loaded = await loadClassifier(JSON.stringify(json), async (name) =>
      name === 'weights.bin' ? readArrayBuffer(join(GAP_DIR, 'weights.bin')) : null,
    );
    const { adapter } = loaded;
    expect(adapter.targetLayer).toBe('target');
    expect(adapter.headKind).toBe('gap-dense');
    expect(adapter.headActivation).toBe('softmax');
    expect(adapter.candidates.map((candidate) => candidate.name)).toEqual(['conv1/Conv2D', 'conv1/BiasAdd', 'features', 'target']);
    const forward = adapter.forward(gap.input);
    expect(maxAbsDifference(await forward.logits.data(), await gap.forward.logits.data())).toBeLessThan(1e-5);
    const maps = await explain(adapter, gap.input, forward, { labels: [0, 1], methods: ['cam', 'gradcam'], gradientPath: 'autodiff' });
    const [cam, gradcam] = maps.map((m) => m.normalized.dataSync());
    expect(maxAbsDifference(cam as Float32Array, gradcam as Float32Array)).toBeLessThan(1e-4);
    maps.forEach(disposeMethodMaps);
    tf.dispose([forward.activations, forward.logits]);
    adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a graph model with a generic head', () => {
  it('peels Identity -> Sigmoid off the output and treats Reshape -> MatMul as generic', async () => {
    const { adapter, input, forward } = generic;
    expect(adapter.headActivation).toBe('sigmoid');
    expect(adapter.logitsNode).toBe('logits');
    expect(adapter.targetLayer).toBe('target');
    expect(adapter.headKind).toBe('generic');
    expect(adapter.classWeights).toBeNull();
    const probs = adapter.probabilities(forward.logits);
    const output = adapter.model.predict(input) as tf.Tensor;
    expect(maxAbsDifference(await probs.data(), await output.data())).toBeLessThan(1e-6);
    tf.dispose([probs, output]);
  });

  it('runs gradient, perturbation and saliency methods through autodiff; CAM is unavailable', async () => {
    const maps = await run(generic, {
      labels: [2, 3],
      methods: ['gradcam', 'gradcampp', 'hirescam', 'ablationcam', 'scorecam', 'saliency'],
    });
    for (const map of Object.values(maps)) {
      expect(map.shape).toEqual([2, 16, 16]);
      expect(Array.from(map.normalized).every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    }
    await expect(explain(generic.adapter, generic.input, generic.forward, { labels: [0], methods: ['cam'] })).rejects.toThrowError(
      /GlobalAveragePooling -> Dense/,
    );
  });
});

describe('memory', () => {
  it('forward, headLogits gradients and explain() leak nothing (after a warm-up)', async () => {
    for (const f of [gap, generic]) {
      const step = async () => {
        const pass = f.adapter.forward(f.input);
        const grad = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(f.adapter.headLogits(a as tf.Tensor4D)))(pass.activations));
        await grad.data();
        tf.dispose([pass.activations, pass.logits, grad]);
        await run(f, { labels: [0, 1], methods: ['gradcam', 'saliency'] });
      };
      await step(); // warm-up
      const before = tf.memory().numTensors;
      await step();
      await step();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('dispose() frees every weight; retargeted adapters add nothing', async () => {
    const before = tf.memory().numTensors;
    const loaded = await loadClassifierFromDirectory(GAP_DIR);
    const retargeted = loaded.adapter.retarget('features');
    const forward = retargeted.forward(gap.input);
    tf.dispose([forward.activations, forward.logits]);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    loaded.adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
