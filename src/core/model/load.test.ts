import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { readArrayBuffer } from '../../node/files';
import { repoRoot } from '../../testing/golden';
import { tinyClassifier, toModelFiles } from '../../testing/tiny-models';
import { isStudioError, type StudioErrorCode } from '../../shared/errors';
import { parseLabels } from '../../shared/labels';
import { loadClassifier, type SiblingReader } from './load';
import { parseModelMetadata } from '../../shared/model-metadata';

const encoder = new TextEncoder();
const jsonBytes = (value: unknown): ArrayBuffer => encoder.encode(JSON.stringify(value)).buffer as ArrayBuffer;

function readerOf(files: Record<string, ArrayBuffer>): SiblingReader {
  return async (fileName) => files[fileName] ?? null;
}

async function expectCode(promise: Promise<unknown>, code: StudioErrorCode, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(isStudioError(error, code), `${(error as Error).name}: ${(error as Error).message}`).toBe(true);
    expect((error as Error).message).toMatch(message);
    return;
  }
  expect.unreachable(`expected a ${code} error`);
}

let files: { modelJson: string; weights: ArrayBuffer };
beforeAll(async () => {
  await initNodeBackend('wasm');
  const model = tinyClassifier('gap-dense-sigmoid');
  files = await toModelFiles(model);
  model.dispose();
});

describe('loadClassifier', () => {
  it('loads model.json + shard with metadata and labels, and frees everything on dispose', async () => {
    const before = tf.memory().numTensors;
    const loaded = await loadClassifier(
      files.modelJson,
      readerOf({
        'weights.bin': files.weights,
        'metadata.json': jsonBytes({ name: 'Tiny', preprocessing: 'tf', resize: 'center-crop', labels: 'names.json' }),
        'names.json': jsonBytes({ 0: ['n0', 'zero'], 1: ['n1', 'one'], 2: ['n2', 'two'], 3: ['n3', 'three'], 4: ['n4', 'four'] }),
      }),
    );
    expect(loaded.metadata.name).toBe('Tiny');
    expect(loaded.preprocessing).toBe('tf');
    expect(loaded.preprocessingSource).toBe('metadata');
    expect(loaded.resizePolicy).toBe('center-crop');
    expect(loaded.labelNames).toEqual(['zero', 'one', 'two', 'three', 'four']);
    expect(loaded.labelsSource).toBe('names.json');
    expect(loaded.adapter.headActivation).toBe('sigmoid');
    loaded.adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('falls back to "class N" names and the unit preprocessing, saying so', async () => {
    const loaded = await loadClassifier(files.modelJson, readerOf({ 'weights.bin': files.weights }));
    expect(loaded.labelNames[3]).toBe('class 3');
    expect(loaded.preprocessing).toBe('unit');
    expect(loaded.notes.join('\n')).toMatch(/no labels file/);
    expect(loaded.notes.join('\n')).toMatch(/no preprocessing/);
    loaded.adapter.dispose();
  });

  it('names a missing shard', async () => {
    await expectCode(loadClassifier(files.modelJson, readerOf({})), 'missing-shard', /weights\.bin/);
  });

  it('rejects a truncated shard', async () => {
    const before = tf.memory().numTensors;
    await expectCode(
      loadClassifier(files.modelJson, readerOf({ 'weights.bin': files.weights.slice(0, 100) })),
      'shard-size-mismatch',
      /truncated/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects model.json that is not JSON, not a TF.js model, or a graph model without a node list', async () => {
    await expectCode(loadClassifier('<html>oops', readerOf({})), 'model-json-invalid', /not valid JSON/);
    await expectCode(loadClassifier('{"hello": 1}', readerOf({})), 'model-json-invalid', /modelTopology/);
    await expectCode(
      loadClassifier('{"format": "graph-model", "modelTopology": {}}', readerOf({})),
      'model-json-invalid',
      /graph model.*"node" list/,
    );
  });

  it('names an unsupported layer class', async () => {
    const json = files.modelJson.replace('"class_name":"GlobalAveragePooling2D"', '"class_name":"FancyPooling"');
    expect(json).not.toBe(files.modelJson);
    await expectCode(loadClassifier(json, readerOf({ 'weights.bin': files.weights })), 'unsupported-layer', /FancyPooling/);
  });

  it('rejects a model without a convolutional layer, freeing its weights', async () => {
    const input = tf.input({ shape: [8] });
    const dense = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    const denseFiles = await toModelFiles(dense);
    dense.dispose();
    const before = tf.memory().numTensors;
    await expectCode(
      loadClassifier(denseFiles.modelJson, readerOf({ 'weights.bin': denseFiles.weights })),
      'bad-input-rank',
      /image input/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  // The e2e fixtures of scripts/make-tiny-model.mjs, read as the studio reads a folder.
  const badModel = (name: string): { modelJson: string; read: SiblingReader; reads: string[] } => {
    const dir = join(repoRoot, 'e2e', 'fixtures', 'bad-models', name);
    const reads: string[] = [];
    const read: SiblingReader = async (fileName) => {
      reads.push(fileName);
      try {
        return readArrayBuffer(join(dir, fileName));
      } catch {
        return null;
      }
    };
    return { modelJson: readFileSync(join(dir, 'model.json'), 'utf8'), read, reads };
  };

  it('names the weights that do not fit when the shards come from another architecture, leaking nothing', async () => {
    const { modelJson, read } = badModel('other-architecture');
    const before = tf.memory().numTensors;
    await expectCode(
      loadClassifier(modelJson, read),
      'weights-mismatch',
      /another architecture.*conv1\/kernel is \[5, 5, 3, 12\] in the weight files, the layer needs \[3, 3, 3, 8\]/s,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    ['no-conv', 'no-conv-layer', /no 4-D \(convolutional\) layer/],
    ['two-inputs', 'multiple-inputs', /2 inputs/],
    ['two-outputs', 'multiple-outputs', /2 outputs/],
    ['dense-only', 'bad-input-rank', /input has shape \[null, 8\].*image input/],
    ['unknown-layer', 'unsupported-layer', /"MyAttention2D"/],
  ] as const)('refuses %s (%s) with its reason, freeing what it built', async (name, code, message) => {
    const { modelJson, read } = badModel(name);
    const before = tf.memory().numTensors;
    await expectCode(loadClassifier(modelJson, read), code, message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a shard longer than the manifest says', async () => {
    const { modelJson, read } = badModel('padded-shard');
    await expectCode(loadClassifier(modelJson, read), 'shard-size-mismatch', /holds? \d+ bytes but model.json describes \d+ bytes/);
  });

  it('refuses a model over the weight limit from its manifest alone, before reading any shard', async () => {
    const { modelJson, read, reads } = badModel('huge');
    const limit = { bytes: 256 * 1024 * 1024, why: 'a quarter of the 1 GiB this device reports' };
    await expectCode(
      loadClassifier(modelJson, read, { weightLimit: limit }),
      'model-too-large',
      /500 MiB of weights.*at most 256 MiB here \(a quarter of the 1 GiB/,
    );
    expect(reads.filter((name) => name.endsWith('.bin'))).toEqual([]);
    // Under the limit, the same model gets as far as its (absent) shards.
    await expectCode(
      loadClassifier(modelJson, badModel('huge').read, { weightLimit: { bytes: 1024 ** 3, why: 'test' } }),
      'missing-shard',
      /group1-shard1of125\.bin/,
    );
  });

  it('refuses a target layer in metadata that does not exist, naming metadata.json (no silent default)', async () => {
    const before = tf.memory().numTensors;
    await expectCode(
      loadClassifier(files.modelJson, readerOf({ 'weights.bin': files.weights, 'metadata.json': jsonBytes({ targetLayer: 'gone' }) })),
      'unknown-layer',
      /metadata\.json names the target layer "gone"/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('loadClassifier with a TF.js graph model', () => {
  // scripts/make-graph-model.mjs: input -> conv 'features' -> conv 'target' -> Mean -> MatMul 'logits' -> Softmax.
  const graphDir = join(repoRoot, 'e2e', 'fixtures', 'tiny-graph');
  const graphJson = readFileSync(join(graphDir, 'model.json'), 'utf8');
  const graphWeights = (): ArrayBuffer => readArrayBuffer(join(graphDir, 'weights.bin'));
  type GraphJson = { modelTopology: { node: Array<{ name: string; op: string; input?: string[] }> } };
  const editGraph = (edit: (json: GraphJson) => void): string => {
    const json = JSON.parse(graphJson) as GraphJson;
    edit(json);
    return JSON.stringify(json);
  };

  it('loads a graph model (format "graph-model") and frees it on dispose', async () => {
    const before = tf.memory().numTensors;
    const loaded = await loadClassifier(
      graphJson,
      readerOf({ 'weights.bin': graphWeights(), 'labels.json': jsonBytes(['a', 'b', 'c', 'd', 'e']) }),
    );
    expect(loaded.adapter.targetLayer).toBe('target');
    expect(loaded.adapter.headKind).toBe('gap-dense');
    expect(loaded.adapter.headActivation).toBe('softmax');
    expect(loaded.labelNames).toEqual(['a', 'b', 'c', 'd', 'e']);
    loaded.adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks the shards of a graph model as it does a LayersModel', async () => {
    await expectCode(loadClassifier(graphJson, readerOf({})), 'missing-shard', /weights\.bin/);
    await expectCode(
      loadClassifier(graphJson, readerOf({ 'weights.bin': graphWeights().slice(0, 64) })),
      'shard-size-mismatch',
      /truncated/,
    );
  });

  it('names an op TF.js lacks, and a node that refers to a missing input, freeing the weights', async () => {
    const before = tf.memory().numTensors;
    const fancy = editGraph((json) => {
      const node = json.modelTopology.node.find((candidate) => candidate.name === 'features');
      if (node) node.op = 'FancyRelu';
    });
    await expectCode(loadClassifier(fancy, readerOf({ 'weights.bin': graphWeights() })), 'unsupported-layer', /"FancyRelu"/);
    const dangling = editGraph((json) => {
      const node = json.modelTopology.node.find((candidate) => candidate.name === 'target');
      if (node) node.input = ['conv2/BiasAdd_missing'];
    });
    await expectCode(
      loadClassifier(dangling, readerOf({ 'weights.bin': graphWeights() })),
      'model-build-failed',
      /"target" reads "conv2\/BiasAdd_missing"/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a target node in metadata or in the options that does not exist; an existing one is used', async () => {
    await expectCode(
      loadClassifier(graphJson, readerOf({ 'weights.bin': graphWeights(), 'metadata.json': jsonBytes({ targetLayer: 'gone' }) })),
      'unknown-layer',
      /metadata\.json names the target node "gone"/,
    );
    const features = await loadClassifier(
      graphJson,
      readerOf({ 'weights.bin': graphWeights(), 'metadata.json': jsonBytes({ targetLayer: 'features' }) }),
    );
    expect(features.adapter.targetLayer).toBe('features');
    features.adapter.dispose();
    await expectCode(
      loadClassifier(graphJson, readerOf({ 'weights.bin': graphWeights() }), { targetLayer: 'gone' }),
      'unknown-layer',
      /no node named "gone"/,
    );
  });
});

describe('files beside the model are read strictly (issue #17)', () => {
  const load = (extra: Record<string, ArrayBuffer>, options: { targetLayer?: string } = {}) =>
    loadClassifier(files.modelJson, readerOf({ 'weights.bin': files.weights, ...extra }), options);
  const text = (value: string): ArrayBuffer => encoder.encode(value).buffer as ArrayBuffer;

  it('refuses a metadata.json with an unknown preprocessing or resize, naming the field, value and choices', async () => {
    await expectCode(
      load({ 'metadata.json': jsonBytes({ preprocessing: 'bogus' }) }),
      'model-metadata-invalid',
      /metadata\.json.*preprocessing is "bogus": allowed is one of caffe, tf, torch, unit/,
    );
    await expectCode(
      load({ 'metadata.json': jsonBytes({ resize: 'stretch' }) }),
      'model-metadata-invalid',
      /resize is "stretch": allowed is one of squash, center-crop/,
    );
    await expectCode(load({ 'metadata.json': jsonBytes(42) }), 'model-metadata-invalid', /not a JSON object/);
  });

  it('refuses metadata.json or a labels file that is not JSON, naming it', async () => {
    await expectCode(
      load({ 'metadata.json': text('{oops') }),
      'model-metadata-invalid',
      /^metadata\.json beside the model is not valid JSON/,
    );
    await expectCode(
      load({ 'labels.json': text('not json') }),
      'model-metadata-invalid',
      /^labels\.json beside the model is not valid JSON/,
    );
  });

  it('refuses labels whose count is not the number of classes, or that are a number', async () => {
    await expectCode(load({ 'labels.json': jsonBytes(['a', 'b']) }), 'model-metadata-invalid', /labels\.json.*2 entries for 5 classes/);
    await expectCode(
      load({ 'metadata.json': jsonBytes({ labels: ['a', 'b', 'c', 'd', 'e', 'f'] }) }),
      'model-metadata-invalid',
      /6 entries for 5 classes/,
    );
    await expectCode(load({ 'labels.json': jsonBytes(7) }), 'model-metadata-invalid', /neither a list nor an object/);
    const fine = await load({ 'labels.json': jsonBytes(['a', 'b', 'c', 'd', 'e']) });
    expect(fine.labelNames).toEqual(['a', 'b', 'c', 'd', 'e']);
    fine.adapter.dispose();
  });

  it('refuses a metadata.json target layer the model does not have, and frees what it built', async () => {
    const before = tf.memory().numTensors;
    await expectCode(
      load({ 'metadata.json': jsonBytes({ targetLayer: 'nope' }) }),
      'unknown-layer',
      /metadata\.json names the target layer "nope"/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses weights that hold NaN or Inf, naming the weight, and frees everything', async () => {
    const before = tf.memory().numTensors;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const weights = files.weights.slice(0);
      new Float32Array(weights)[3] = bad;
      await expectCode(
        loadClassifier(files.modelJson, readerOf({ 'weights.bin': weights })),
        'weights-not-finite',
        new RegExp(`1 NaN or infinite value, in "[^"]+" \\(1 of \\d+ values, first at index 3: ${String(bad)}\\)`),
      );
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('parseLabels', () => {
  it('reads the Keras class index, a list, and an index -> name object', () => {
    expect(parseLabels({ 0: ['n01440764', 'tench'], 1: ['n01443537', 'goldfish'] }, 2).names).toEqual(['tench', 'goldfish']);
    expect(parseLabels(['a', 'b', 'c'], 3).names).toEqual(['a', 'b', 'c']);
    expect(parseLabels({ 1: 'one' }, 3).names).toEqual(['class 0', 'one', 'class 2']);
    expect(parseLabels('nope', 2).names).toEqual(['class 0', 'class 1']);
    expect(parseLabels(['a'], 2).notes[0]).toMatch(/1 entries for 2 classes/);
  });
});

describe('parseModelMetadata', () => {
  it('keeps known fields and notes unknown presets', () => {
    const { metadata, notes } = parseModelMetadata({ preprocessing: 'bgr', resize: 'squash', labels: ['x'] });
    expect(metadata).toEqual({ resize: 'squash', labels: ['x'] });
    expect(notes[0]).toMatch(/preprocessing is "bgr": allowed is one of caffe, tf, torch, unit/);
  });
});
