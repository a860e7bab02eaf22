#!/usr/bin/env node
// Builds the tiny test fixtures used by the end-to-end tests (e2e/fixtures/), deterministically:
//
//   e2e/fixtures/tiny-cnn/                 a small Keras-style CNN in TF.js layers format (+ metadata.json)
//       input [32,32,3] -> Conv2D(8,3x3,relu,same) -> Conv2D(16,3x3,same) -> Activation relu 'target_relu'
//       -> GlobalAveragePooling2D -> Dense(4, softmax, 'logits_dense')
//   e2e/fixtures/bad-models/missing-shard/ model.json that references weights.bin, which is absent
//   e2e/fixtures/bad-models/not-json/      model.json that is not JSON
//   e2e/fixtures/bad-models/dense-only/    a valid layers model whose input is not an image: [8] -> Dense(3)
//   e2e/fixtures/bad-models/no-conv/       an image input but no convolutional layer: [32,32,3] -> Flatten -> Dense(4)
//   e2e/fixtures/bad-models/truncated-shard/  tiny-cnn with weights.bin cut to half its size
//   e2e/fixtures/bad-models/padded-shard/  tiny-cnn with 1000 extra bytes in weights.bin (size != manifest)
//   e2e/fixtures/bad-models/other-architecture/  tiny-cnn's topology with the weights (manifest + shard) of a
//                                          model whose conv1 is 5x5 with 12 filters
//   e2e/fixtures/bad-models/two-inputs/    image + [4] vector inputs, conv -> GAP -> concat -> Dense(4)
//   e2e/fixtures/bad-models/two-outputs/   one image input, conv -> GAP -> Dense(4) and Dense(2)
//   e2e/fixtures/bad-models/unknown-layer/ tiny-cnn with conv2's class renamed to "MyAttention2D"
//   e2e/fixtures/bad-models/huge/          tiny-cnn's topology widened (conv2 1024 filters, Dense 127800 units):
//                                          the manifest declares 500 MiB of weights; the shards are not written
//   e2e/fixtures/not-an-image.png          text with a .png name
//   e2e/fixtures/small.png                 a 48x40 RGB PNG (colour bands), written with node:zlib
//
// Run: node scripts/make-tiny-model.mjs   (idempotent; the output is byte-for-byte the same every run)
// Check: node scripts/make-tiny-model.mjs --check   (also reloads tiny-cnn with tf.loadLayersModel and predicts)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'e2e', 'fixtures');
const check = process.argv.includes('--check');

await tf.setBackend('cpu');
await tf.ready();

// ---------------------------------------------------------------------------------------------- models

function buildTinyCnn() {
  let seed = 1234;
  const kernel = () => tf.initializers.glorotUniform({ seed: seed++ });
  const bias = () => tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed++ });
  const input = tf.input({ shape: [32, 32, 3], name: 'input_image' });
  let x = tf.layers
    .conv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'conv1',
      kernelInitializer: kernel(),
      biasInitializer: bias(),
    })
    .apply(input);
  x = tf.layers
    .conv2d({ filters: 16, kernelSize: 3, padding: 'same', name: 'conv2', kernelInitializer: kernel(), biasInitializer: bias() })
    .apply(x);
  x = tf.layers.activation({ activation: 'relu', name: 'target_relu' }).apply(x);
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x);
  const output = tf.layers
    .dense({ units: 4, activation: 'softmax', name: 'logits_dense', kernelInitializer: kernel(), biasInitializer: bias() })
    .apply(x);
  return tf.model({ inputs: input, outputs: output, name: 'tiny_cnn' });
}

function buildDenseOnly() {
  const input = tf.input({ shape: [8], name: 'features' });
  const output = tf.layers.dense({ units: 3, name: 'dense', kernelInitializer: tf.initializers.glorotUniform({ seed: 99 }) }).apply(input);
  return tf.model({ inputs: input, outputs: output, name: 'dense_only' });
}

function buildNoConv() {
  const input = tf.input({ shape: [32, 32, 3], name: 'input_image' });
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(input);
  const output = tf.layers
    .dense({ units: 4, activation: 'softmax', name: 'probs', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) })
    .apply(flat);
  return tf.model({ inputs: input, outputs: output, name: 'no_conv' });
}

/** conv -> GAP features of an image input (layer names prefixed). */
function convFeatures(input, prefix, seed, filters = 8) {
  const x = tf.layers
    .conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: `${prefix}conv`,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    })
    .apply(input);
  return tf.layers.globalAveragePooling2d({ name: `${prefix}gap` }).apply(x);
}

function buildTwoInputs() {
  const image = tf.input({ shape: [32, 32, 3], name: 'image' });
  const extra = tf.input({ shape: [4], name: 'extra' });
  const joined = tf.layers.concatenate({ name: 'joined' }).apply([convFeatures(image, '', 11), extra]);
  const output = tf.layers
    .dense({ units: 4, activation: 'softmax', name: 'probs', kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) })
    .apply(joined);
  return tf.model({ inputs: [image, extra], outputs: output, name: 'two_inputs' });
}

function buildTwoOutputs() {
  const image = tf.input({ shape: [32, 32, 3], name: 'image' });
  const features = convFeatures(image, '', 21);
  const classes = tf.layers
    .dense({ units: 4, activation: 'softmax', name: 'classes', kernelInitializer: tf.initializers.glorotUniform({ seed: 22 }) })
    .apply(features);
  const box = tf.layers.dense({ units: 2, name: 'box', kernelInitializer: tf.initializers.glorotUniform({ seed: 23 }) }).apply(features);
  return tf.model({ inputs: image, outputs: [classes, box], name: 'two_outputs' });
}

/** tiny-cnn's layout with conv1 5x5x3x12 (so conv2 reads 12 channels): "another architecture". */
function buildOtherArchitecture() {
  let seed = 4321;
  const kernel = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [32, 32, 3], name: 'input_image' });
  let x = tf.layers
    .conv2d({ filters: 12, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv1', kernelInitializer: kernel() })
    .apply(input);
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', name: 'conv2', kernelInitializer: kernel() }).apply(x);
  x = tf.layers.activation({ activation: 'relu', name: 'target_relu' }).apply(x);
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x);
  const output = tf.layers.dense({ units: 4, activation: 'softmax', name: 'logits_dense', kernelInitializer: kernel() }).apply(x);
  return tf.model({ inputs: input, outputs: output, name: 'tiny_cnn' });
}

/** Saves a layers model as model.json + weights.bin (one shard) in dir; returns the model.json object. */
async function saveLayersModel(model, dir) {
  let artifacts;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'scripts/make-tiny-model.mjs',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson) + '\n');
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
  return modelJson;
}

// ------------------------------------------------------------------------------------------------- PNG

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
/** An RGB8 PNG; pixel(x, y) -> [r, g, b]. */
function makePng(width, height, pixel) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type RGB
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw[row + 1 + x * 3] = r;
      raw[row + 2 + x * 3] = g;
      raw[row + 3 + x * 3] = b;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ------------------------------------------------------------------------------------------------ main

const tinyDir = join(fixtures, 'tiny-cnn');
const badDir = join(fixtures, 'bad-models');
rmSync(tinyDir, { recursive: true, force: true });
rmSync(badDir, { recursive: true, force: true });

const tiny = buildTinyCnn();
const tinyJson = await saveLayersModel(tiny, tinyDir);
writeFileSync(
  join(tinyDir, 'metadata.json'),
  JSON.stringify(
    {
      name: 'Tiny CNN (test fixture)',
      preprocessing: 'unit',
      resize: 'squash',
      labels: ['red', 'green', 'blue', 'gray'],
      targetLayer: 'target_relu',
    },
    null,
    2,
  ) + '\n',
);

// missing-shard: the tiny model's model.json, its weights.bin left out.
mkdirSync(join(badDir, 'missing-shard'), { recursive: true });
writeFileSync(join(badDir, 'missing-shard', 'model.json'), JSON.stringify(tinyJson) + '\n');

// not-json: garbage text named model.json.
mkdirSync(join(badDir, 'not-json'), { recursive: true });
writeFileSync(join(badDir, 'not-json', 'model.json'), 'this is not JSON {{{ <html>oops</html>\n');

// dense-only: valid, but nothing to explain (no convolutional feature map).
await saveLayersModel(buildDenseOnly(), join(badDir, 'dense-only'));

// dense-only: valid, but its input is a vector, not an image.
// no-conv, two-inputs, two-outputs: valid layers models the CAM methods cannot explain.
await saveLayersModel(buildNoConv(), join(badDir, 'no-conv'));
await saveLayersModel(buildTwoInputs(), join(badDir, 'two-inputs'));
await saveLayersModel(buildTwoOutputs(), join(badDir, 'two-outputs'));

const tinyWeights = readFileSync(join(tinyDir, 'weights.bin'));
// truncated-shard / padded-shard: the shard's size disagrees with the manifest.
mkdirSync(join(badDir, 'truncated-shard'), { recursive: true });
writeFileSync(join(badDir, 'truncated-shard', 'model.json'), JSON.stringify(tinyJson) + '\n');
writeFileSync(join(badDir, 'truncated-shard', 'weights.bin'), tinyWeights.subarray(0, Math.floor(tinyWeights.length / 2)));
mkdirSync(join(badDir, 'padded-shard'), { recursive: true });
writeFileSync(join(badDir, 'padded-shard', 'model.json'), JSON.stringify(tinyJson) + '\n');
writeFileSync(join(badDir, 'padded-shard', 'weights.bin'), Buffer.concat([tinyWeights, Buffer.alloc(1000)]));

// other-architecture: tiny-cnn's model.json topology, the other model's weights manifest and shard (as when
// model.json and the .bin files of two conversions get mixed up).
{
  const dir = join(badDir, 'other-architecture');
  const otherJson = await saveLayersModel(buildOtherArchitecture(), dir);
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...otherJson, modelTopology: tinyJson.modelTopology }) + '\n');
}

// unknown-layer: a layer class TF.js does not know (a custom Keras layer converted as is).
{
  const json = JSON.parse(JSON.stringify(tinyJson));
  const conv2 = json.modelTopology.config.layers.find((layer) => layer.name === 'conv2');
  conv2.class_name = 'MyAttention2D';
  mkdirSync(join(badDir, 'unknown-layer'), { recursive: true });
  writeFileSync(join(badDir, 'unknown-layer', 'model.json'), JSON.stringify(json) + '\n');
  writeFileSync(join(badDir, 'unknown-layer', 'weights.bin'), tinyWeights);
}

// huge: a manifest of 500 MiB (mostly the 1024 x 127800 float32 Dense kernel); only model.json is written, since the
// studio must refuse it from the manifest, before fetching any shard.
{
  const json = JSON.parse(JSON.stringify(tinyJson));
  const layers = json.modelTopology.config.layers;
  layers.find((layer) => layer.name === 'conv2').config.filters = 1024;
  layers.find((layer) => layer.name === 'logits_dense').config.units = 127800;
  const shapes = {
    'conv2/kernel': [3, 3, 8, 1024],
    'conv2/bias': [1024],
    'logits_dense/kernel': [1024, 127800],
    'logits_dense/bias': [127800],
  };
  const weights = json.weightsManifest[0].weights.map((spec) => ({ ...spec, shape: shapes[spec.name] ?? spec.shape }));
  const bytes = weights.reduce((sum, spec) => sum + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
  const shards = Math.ceil(bytes / (4 * 1024 * 1024));
  json.weightsManifest = [{ paths: Array.from({ length: shards }, (_, i) => `group1-shard${i + 1}of${shards}.bin`), weights }];
  mkdirSync(join(badDir, 'huge'), { recursive: true });
  writeFileSync(join(badDir, 'huge', 'model.json'), JSON.stringify(json) + '\n');
}

writeFileSync(join(fixtures, 'not-an-image.png'), 'This file is plain text with a .png name; it is not an image.\n');
writeFileSync(
  join(fixtures, 'small.png'),
  makePng(48, 40, (x, y) => {
    // Left third red, middle green, right blue, with a gray square in the lower middle.
    if (x >= 18 && x < 30 && y >= 24 && y < 36) return [128, 128, 128];
    if (x < 16) return [220, 30 + y, 30];
    if (x < 32) return [30, 200, 40 + y];
    return [20 + y, 40, 210];
  }),
);

console.log(`[make-tiny-model] wrote ${tinyDir} (${tiny.countParams()} parameters), ${badDir}, not-an-image.png, small.png`);

if (check) {
  // Reload from the files written, as the studio would, and predict once.
  const json = JSON.parse(readFileSync(join(tinyDir, 'model.json'), 'utf8'));
  const bin = readFileSync(join(tinyDir, 'weights.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const loaded = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
  );
  const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 7);
  const y = loaded.predict(x);
  const expected = tiny.predict(x);
  const diff = tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0];
  const sum = tf.sum(y).dataSync()[0];
  console.log(`[make-tiny-model] reloaded: output shape [${y.shape}], sum ${sum.toFixed(6)}, max |diff| vs built ${diff}`);
  console.log(
    `[make-tiny-model] probs ${Array.from(y.dataSync())
      .map((v) => v.toFixed(4))
      .join(' ')}`,
  );
  if (y.shape.join(',') !== '1,4' || Math.abs(sum - 1) > 1e-5 || diff > 1e-6) {
    console.error('[make-tiny-model] CHECK FAILED');
    process.exit(1);
  }
  const layerNames = loaded.layers.map((l) => l.name);
  if (!layerNames.includes('target_relu') || !layerNames.includes('logits_dense')) {
    console.error(`[make-tiny-model] CHECK FAILED: layers ${layerNames.join(', ')}`);
    process.exit(1);
  }
  console.log('[make-tiny-model] check ok');
}
