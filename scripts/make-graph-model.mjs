#!/usr/bin/env node
// Builds tiny TF.js GRAPH models (the format tensorflowjs_converter writes for a SavedModel:
// model.json with "format": "graph-model" holding a GraphDef in JSON form, + weights.bin), by hand and
// deterministically, for the graph-model tests (no Python converter is needed):
//
//   e2e/fixtures/tiny-graph/           GAP -> dense head, softmax output
//       Placeholder 'input' [-1,16,16,3] -> Conv2D 3x3x3x8 (SAME) -> BiasAdd -> Relu 'features'
//       -> Conv2D 3x3x8x16 (SAME) -> BiasAdd -> Relu 'target' -> Mean(axes [1,2]) 'gap'
//       -> MatMul [16,5] -> BiasAdd 'logits' -> Softmax 'probs'
//   e2e/fixtures/tiny-graph-generic/   the same backbone, a generic head, sigmoid output behind an Identity
//       ... Relu 'target' -> Reshape [-1, 4096] 'flatten' -> MatMul [4096,5] -> BiasAdd 'logits'
//       -> Sigmoid 'sigmoid' -> Identity 'scores'
//   e2e/fixtures/tiny-graph-grouped/   grouped convolutions, as the converter writes a Keras Conv2D(groups=g):
//       ... Relu 'features' (8 channels) -> _FusedConv2D 3x3x4x16 (2 groups, BiasAdd + Relu) 'grouped1'
//       -> Conv2D 3x3x4x16 (4 groups) -> BiasAdd -> Relu 'target' -> the GAP -> dense head, softmax output
//
// Weights come from a seeded generator (mulberry32), so every run writes the same bytes.
// Run: node scripts/make-graph-model.mjs           (idempotent)
// Check: node scripts/make-graph-model.mjs --check (also loads both with tf.loadGraphModel and predicts)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'e2e', 'fixtures');
const check = process.argv.includes('--check');

// ------------------------------------------------------------------------------------ deterministic values

function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-limit, limit] (Glorot-like limit from fan in / fan out). */
function uniform(random, size, limit) {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (random() * 2 - 1) * limit;
  return values;
}

// ------------------------------------------------------------------------------------ GraphDef JSON helpers

const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');
const T_FLOAT = { T: { type: 'DT_FLOAT' } };
const shapeAttr = (dims) => ({ dim: dims.map((size) => ({ size: String(size) })) });
const intList = (values) => ({ list: { i: values.map(String) } });

/** A Const node: its value lives in the weights manifest under the node's name. */
function constNode(name, shape, dtype = 'float32') {
  const tfType = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
  return { name, op: 'Const', attr: { value: { tensor: { dtype: tfType, tensorShape: shapeAttr(shape) } }, dtype: { type: tfType } } };
}

const conv2dNode = (name, input, filter) => ({
  name,
  op: 'Conv2D',
  input: [input, filter],
  attr: {
    ...T_FLOAT,
    strides: intList([1, 1, 1, 1]),
    padding: { s: b64('SAME') },
    data_format: { s: b64('NHWC') },
    dilations: intList([1, 1, 1, 1]),
    use_cudnn_on_gpu: { b: true },
    explicit_paddings: { list: {} },
  },
});
const biasAddNode = (name, input, bias) => ({
  name,
  op: 'BiasAdd',
  input: [input, bias],
  attr: { ...T_FLOAT, data_format: { s: b64('NHWC') } },
});
const unaryNode = (name, op, input) => ({ name, op, input: [input], attr: { ...T_FLOAT } });
const matMulNode = (name, a, b) => ({
  name,
  op: 'MatMul',
  input: [a, b],
  attr: { ...T_FLOAT, transpose_a: { b: false }, transpose_b: { b: false } },
});

/**
 * Builds one model: nodes + weights (name -> { shape, dtype, values }), in manifest order.
 * @param head 'gap' or 'generic'
 */
function buildGraph(head) {
  const random = mulberry32(head === 'gap' ? 20240601 : head === 'generic' ? 20240602 : 20240603);
  const weights = [];
  const nodes = [];
  const weight = (name, shape, values, dtype = 'float32') => {
    weights.push({ name, shape, dtype, values });
    nodes.push(constNode(name, shape, dtype));
  };
  const glorot = (shape, fanIn, fanOut) =>
    uniform(
      random,
      shape.reduce((a, b) => a * b, 1),
      Math.sqrt(6 / (fanIn + fanOut)),
    );
  const smallBias = (size) => Float32Array.from(uniform(random, size, 0.05), (v) => v + 0.02);

  nodes.push({ name: 'input', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: shapeAttr([-1, 16, 16, 3]) } } });
  weight('conv1/filter', [3, 3, 3, 8], glorot([3, 3, 3, 8], 27, 72));
  weight('conv1/bias', [8], smallBias(8));
  if (head === 'grouped') {
    // TensorFlow's grouped Conv2D: the filter holds C_in / groups input channels.
    weight('grouped1/filter', [3, 3, 4, 16], glorot([3, 3, 4, 16], 36, 144));
    weight('grouped1/bias', [16], smallBias(16));
    weight('grouped2/filter', [3, 3, 4, 16], glorot([3, 3, 4, 16], 36, 144));
    weight('grouped2/bias', [16], smallBias(16));
  } else {
    weight('conv2/filter', [3, 3, 8, 16], glorot([3, 3, 8, 16], 72, 144));
    weight('conv2/bias', [16], smallBias(16));
  }
  nodes.push(conv2dNode('conv1/Conv2D', 'input', 'conv1/filter'));
  nodes.push(biasAddNode('conv1/BiasAdd', 'conv1/Conv2D', 'conv1/bias'));
  nodes.push(unaryNode('features', 'Relu', 'conv1/BiasAdd'));
  if (head === 'grouped') {
    const fused = conv2dNode('grouped1', 'features', 'grouped1/filter');
    fused.op = '_FusedConv2D';
    fused.input.push('grouped1/bias');
    Object.assign(fused.attr, {
      fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } },
      num_args: { i: '1' },
      epsilon: { f: 0 },
      leakyrelu_alpha: { f: 0.2 },
    });
    nodes.push(fused);
    nodes.push(conv2dNode('grouped2/Conv2D', 'grouped1', 'grouped2/filter'));
    nodes.push(biasAddNode('grouped2/BiasAdd', 'grouped2/Conv2D', 'grouped2/bias'));
    nodes.push(unaryNode('target', 'Relu', 'grouped2/BiasAdd'));
  } else {
    nodes.push(conv2dNode('conv2/Conv2D', 'features', 'conv2/filter'));
    nodes.push(biasAddNode('conv2/BiasAdd', 'conv2/Conv2D', 'conv2/bias'));
    nodes.push(unaryNode('target', 'Relu', 'conv2/BiasAdd'));
  }

  if (head === 'gap' || head === 'grouped') {
    weight('gap/reduction_indices', [2], Int32Array.from([1, 2]), 'int32');
    weight(
      'dense/kernel',
      [16, 5],
      glorot([16, 5], 16, 5).map((v) => v * 4),
    );
    weight('dense/bias', [5], uniform(random, 5, 0.1));
    nodes.push({
      name: 'gap',
      op: 'Mean',
      input: ['target', 'gap/reduction_indices'],
      attr: { ...T_FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } },
    });
    nodes.push(matMulNode('dense/MatMul', 'gap', 'dense/kernel'));
    nodes.push(biasAddNode('logits', 'dense/MatMul', 'dense/bias'));
    nodes.push(unaryNode('probs', 'Softmax', 'logits'));
  } else {
    weight('flatten/shape', [2], Int32Array.from([-1, 16 * 16 * 16]), 'int32');
    weight(
      'dense/kernel',
      [4096, 5],
      glorot([4096, 5], 4096, 5).map((v) => v * 4),
    );
    weight('dense/bias', [5], uniform(random, 5, 0.1));
    nodes.push({ name: 'flatten', op: 'Reshape', input: ['target', 'flatten/shape'], attr: { ...T_FLOAT, Tshape: { type: 'DT_INT32' } } });
    nodes.push(matMulNode('dense/MatMul', 'flatten', 'dense/kernel'));
    nodes.push(biasAddNode('logits', 'dense/MatMul', 'dense/bias'));
    nodes.push(unaryNode('sigmoid', 'Sigmoid', 'logits'));
    nodes.push(unaryNode('scores', 'Identity', 'sigmoid'));
  }
  return { nodes, weights };
}

/** Writes model.json + weights.bin (one shard) into dir. */
function writeGraphModel(dir, { nodes, weights }) {
  mkdirSync(dir, { recursive: true });
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'cam-studio scripts/make-graph-model.mjs',
    convertedBy: 'hand-written GraphDef (TensorFlow.js Converter JSON layout)',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1286 } },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
  };
  const chunks = weights.map(({ values }) => Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(modelJson, null, 1)}\n`);
  writeFileSync(join(dir, 'weights.bin'), Buffer.concat(chunks));
}

const models = [
  { dir: join(fixtures, 'tiny-graph'), head: 'gap', output: 'probs' },
  { dir: join(fixtures, 'tiny-graph-generic'), head: 'generic', output: 'scores' },
  { dir: join(fixtures, 'tiny-graph-grouped'), head: 'grouped', output: 'probs' },
];
for (const { dir, head } of models) writeGraphModel(dir, buildGraph(head));
console.log(`wrote ${models.map(({ dir }) => dir).join(', ')}`);

if (check) {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  await tf.ready();
  for (const { dir, output } of models) {
    const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const bytes = readFileSync(join(dir, 'weights.bin'));
    const model = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        format: modelJson.format,
      }),
    );
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 7);
    const y = model.predict(x);
    console.log(
      `${dir}: inputs ${model.inputNodes} outputs ${model.outputNodes} (${output}) ->`,
      y.shape,
      Array.from(y.dataSync())
        .map((v) => v.toFixed(4))
        .join(' '),
    );
    tf.dispose([x, y]);
    model.dispose();
  }
}
