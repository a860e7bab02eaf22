/**
 * `npm run explain -- --model DIR --image FILE [--input-tensor FILE.f32] --methods ID,ID|all
 *   --labels N,N|detected [--detect sigmoid:0.5|prob:0.2|topk:3|gt:N,N] [--tta] [--tta-scales S,S] [--smooth N]
 *   [--out FILE.json]`
 *
 * Runs the same src/core pipeline as the studio, in Node on the wasm backend, and writes JSON:
 * `{ backend, model, inputShape, predictions, detected, maps: { METHOD: { LABEL: { shape, data, rawMin,
 * rawMax } } }, timingsMs: { METHOD: ms, forward: ms } }`. Maps are normalised, after ReLU, row-major, at
 * the method's own resolution (feature resolution for CAM methods; input resolution for saliency), never
 * upsampled. With the meta-methods (`--tta`, `--tta-scales`, `--smooth`, see src/core/methods/meta.ts) every
 * map is at input resolution instead (maps of scaled inputs only align there), the JSON gains a top-level
 * `meta: { tta: { hflip, scales } | null, smooth: { samples, noiseLevel, seed } | null, augmentations,
 * resolution: 'input', wallMs }`, and `timingsMs[METHOD]` sums the method over the augmentations.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { defaultDetectionRule, describeDetectionRule, detectedSet, parseDetectionRule } from '../core/detection';
import { disposeMethodMaps, explain, type MethodMaps } from '../core/methods/explain';
import { DEFAULT_SMOOTH, DEFAULT_TTA, explainWithMeta, geometricAugmentations, type MetaOptions } from '../core/methods/meta';
import { isMethodId, METHOD_IDS, type MethodId } from '../core/methods/method-ids';
import { getMethod } from '../core/methods/registry';
import { methodAvailability } from '../core/methods/types';
import type { ScoreCamVariant } from '../core/methods/context';
import { topK } from '../core/predictions';
import { preprocess } from '../core/preprocess';
import { initNodeBackend } from '../node/backend';
import { loadClassifierFromDirectory, readFloat32 } from '../node/files';
import { readImagePixels } from '../node/image';
import { parseNumberList, requireString, runMain, UsageError } from './args';

const USAGE = `usage: npm run explain -- --model DIR (--image FILE | --input-tensor FILE.f32) [options]

  --model DIR             TF.js model folder, layers or graph model (model.json, shards, optional metadata.json/labels.json)
  --image FILE            image to explain (PNG, JPEG, WebP, GIF, TIFF; EXIF orientation applied)
  --input-tensor FILE     raw little-endian float32 NHWC input, already preprocessed (e.g. golden *.x.f32)
  --methods LIST|all      method ids, comma-separated (default: cam,gradcam); all = every method the model supports
  --labels LIST|detected  class indices to explain, or the detected set (default: detected)
  --detect RULE           detected set: sigmoid:T | prob:T | topk:K | gt:N,N (default: sigmoid:0.5 for sigmoid heads, topk:3 otherwise)
  --top N                 predictions to list (default 5)
  --target-layer NAME     target layer (default: metadata, else the last 4-D layer before pooling)
  --preprocessing ID      caffe | tf | torch | unit (default: metadata.json, else unit)
  --resize POLICY         squash | center-crop (default: metadata.json, else squash)
  --scorecam-variant V    probability | softmax-logits | increase-of-confidence (default probability)
  --scorecam-max-channels N   keep the N channels of largest variance (default: all)
  --smoothgrad-samples N  (default 20)   --ig-steps N (default 32)
  --tta                   test-time augmentation: mean of the maps over hflip x scales 0.5,1.5,2.0 (and 1),
                          each mapped back to the image; maps are then at input resolution
  --tta-scales LIST       TTA with these scales, e.g. 0.5,1.5 (implies --tta)
  --smooth N              mean of the maps over N noisy copies (Gaussian, sigma = 0.15 (max x - min x));
                          combines with --tta (every copy is augmented); maps at input resolution
  --out FILE.json         write the JSON there (default: standard output)

methods: ${METHOD_IDS.join(', ')}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'model': { type: 'string' },
      'image': { type: 'string' },
      'input-tensor': { type: 'string' },
      'methods': { type: 'string', default: 'cam,gradcam' },
      'labels': { type: 'string', default: 'detected' },
      'detect': { type: 'string' },
      'top': { type: 'string', default: '5' },
      'target-layer': { type: 'string' },
      'preprocessing': { type: 'string' },
      'resize': { type: 'string' },
      'scorecam-variant': { type: 'string', default: 'probability' },
      'scorecam-max-channels': { type: 'string' },
      'smoothgrad-samples': { type: 'string', default: '20' },
      'ig-steps': { type: 'string', default: '32' },
      'tta': { type: 'boolean', default: false },
      'tta-scales': { type: 'string' },
      'smooth': { type: 'string' },
      'out': { type: 'string' },
      'help': { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const modelDir = requireString(values.model, 'model');
  if (!existsSync(`${modelDir}/model.json`)) throw new UsageError(`no model.json in ${modelDir}`);
  if ((values.image === undefined) === (values['input-tensor'] === undefined)) throw new UsageError('give exactly one of --image and --input-tensor');

  const backend = await initNodeBackend('wasm');
  const loaded = await loadClassifierFromDirectory(modelDir, values['target-layer'] === undefined ? {} : { targetLayer: values['target-layer'] });
  const adapter = loaded.adapter;
  const [height, width, channels] = adapter.inputShape;

  const requested = values.methods === 'all'
    ? METHOD_IDS.filter((id) => methodAvailability(getMethod(id), adapter).available)
    : values.methods.split(',').map((id) => id.trim());
  const unknown = requested.filter((id) => !isMethodId(id));
  if (unknown.length > 0) throw new UsageError(`unknown method(s): ${unknown.join(', ')}; known: ${METHOD_IDS.join(', ')}`);
  const methods = requested as MethodId[];
  const meta = parseMeta(values.tta, values['tta-scales'], values.smooth);

  let input: tf.Tensor4D;
  if (values['input-tensor'] !== undefined) {
    const data = readFloat32(values['input-tensor']);
    if (data.length !== height * width * channels) throw new UsageError(`--input-tensor holds ${data.length} floats; the model needs 1x${height}x${width}x${channels} = ${height * width * channels}`);
    input = tf.tensor4d(data, [1, height, width, channels]);
  } else {
    const preprocessing = (values.preprocessing ?? loaded.preprocessing) as typeof loaded.preprocessing;
    const policy = (values.resize ?? loaded.resizePolicy) as typeof loaded.resizePolicy;
    const pixels = await readImagePixels(values.image as string, [height, width], policy);
    input = preprocess(pixels, preprocessing, channels);
    pixels.dispose();
  }

  const forwardStarted = performance.now();
  const forward = adapter.forward(input);
  const probsTensor = adapter.probabilities(forward.logits);
  const [logits, probs] = [await forward.logits.data(), await probsTensor.data()];
  const forwardMs = performance.now() - forwardStarted;
  probsTensor.dispose();

  const rule = values.detect === undefined ? defaultDetectionRule(adapter.headActivation) : parseDetectionRule(values.detect);
  const detected = detectedSet(rule, probs, logits);
  const labels = values.labels === 'detected' ? detected : parseNumberList(values.labels, 'labels');
  const maxChannels = values['scorecam-max-channels'] === undefined ? null : Number(values['scorecam-max-channels']);

  const timingsMs: Record<string, number> = { forward: forwardMs };
  const maps: Record<string, Record<string, { shape: number[]; data: number[]; rawMin: number; rawMax: number; extras?: Record<string, number> }>> = {};
  let lastProgress = '';
  const showProgress = (line: string): void => {
    if (process.stderr.isTTY && line !== lastProgress) process.stderr.write(`\r${line}   `);
    lastProgress = line;
  };
  const request = {
    labels, methods, detected,
    options: {
      scorecam: { variant: values['scorecam-variant'] as ScoreCamVariant, batchSize: 16, maxChannels },
      smoothgrad: { samples: Number(values['smoothgrad-samples']), noiseLevel: 0.15, seed: 0 },
      integratedGradients: { steps: Number(values['ig-steps']), batchSize: 8 },
    },
  };
  const metaStarted = performance.now();
  let results: MethodMaps[] = [];
  if (labels.length > 0) {
    results = meta === null
      ? await explain(adapter, input, forward, { ...request, onProgress: (method, done, total) => showProgress(`${method}: ${done}/${total}`) })
      : await explainWithMeta(adapter, input, {
        ...request,
        onAugmentation: (done, total, name) => showProgress(`augmentation ${done}/${total} (${name})`),
        onProgress: (method, done, total, augmentation) => showProgress(`augmentation ${augmentation.index + 1}/${augmentation.total} (${augmentation.name}) ${method}: ${done}/${total}`),
      }, meta);
  }
  const metaWallMs = performance.now() - metaStarted;
  if (process.stderr.isTTY && lastProgress !== '') process.stderr.write('\n');
  try {
    for (const result of results) {
      timingsMs[result.method] = result.ms;
      const [count, h, w] = result.normalized.shape;
      const normalized = await result.normalized.data();
      const raw = await result.raw.data();
      const perLabel: (typeof maps)[string] = {};
      for (let n = 0; n < count; n += 1) {
        const rawSlice = raw.subarray(n * h * w, (n + 1) * h * w);
        const extras = Object.fromEntries(Object.entries(result.extras).map(([key, list]) => [key, list.length === count ? list[n] as number : list[0] as number]));
        perLabel[String(labels[n])] = {
          shape: [h, w],
          data: Array.from(normalized.subarray(n * h * w, (n + 1) * h * w)),
          rawMin: Math.min(...rawSlice),
          rawMax: Math.max(...rawSlice),
          ...(Object.keys(extras).length > 0 ? { extras } : {}),
        };
      }
      maps[result.method] = perLabel;
    }
  } finally {
    results.forEach(disposeMethodMaps);
    tf.dispose([input, forward.activations, forward.logits]);
  }
  const output = {
    backend,
    model: { name: loaded.metadata.name ?? modelDir, dir: modelDir, targetLayer: adapter.targetLayer, headKind: adapter.headKind, headActivation: adapter.headActivation },
    inputShape: [1, height, width, channels],
    predictions: topK(probs, logits, Number(values.top)).map((ranked) => ({ label: ranked.label, name: loaded.labelNames[ranked.label], prob: ranked.prob })),
    detected,
    detectionRule: describeDetectionRule(rule),
    ...(meta === null ? {} : {
      meta: {
        tta: meta.tta ?? null,
        smooth: meta.smooth ?? null,
        augmentations: geometricAugmentations(meta.tta).length * (meta.smooth?.samples ?? 1),
        resolution: 'input',
        wallMs: metaWallMs,
      },
    }),
    maps,
    timingsMs,
  };
  adapter.dispose();
  const text = `${JSON.stringify(output)}\n`;
  if (values.out === undefined) process.stdout.write(text);
  else writeFileSync(values.out, text);
}

/** `--tta` / `--tta-scales` / `--smooth` -> the meta-method options, or null when none is asked for. */
function parseMeta(tta: boolean | undefined, ttaScales: string | undefined, smooth: string | undefined): MetaOptions | null {
  const meta: MetaOptions = {};
  if (tta === true || ttaScales !== undefined) {
    const scales = ttaScales === undefined ? [...DEFAULT_TTA.scales] : ttaScales.split(',').map((part) => Number(part.trim()));
    if (scales.some((scale) => !Number.isFinite(scale) || scale <= 0)) throw new UsageError(`--tta-scales takes comma-separated positive numbers, e.g. 0.5,1.5 (got "${ttaScales}")`);
    meta.tta = { hflip: DEFAULT_TTA.hflip, scales };
  }
  if (smooth !== undefined) {
    const samples = Number(smooth);
    if (!Number.isInteger(samples) || samples < 1) throw new UsageError(`--smooth takes a number of noisy copies >= 1 (got "${smooth}")`);
    meta.smooth = { ...DEFAULT_SMOOTH, samples };
  }
  return meta.tta === undefined && meta.smooth === undefined ? null : meta;
}

runMain(USAGE, main);
