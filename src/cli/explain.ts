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
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { countNonFinite } from '../core/model/finite';
import { describeDetectionRule } from '../shared/detection';
import { METHOD_IDS, methodDescriptor } from '../shared/methods';
import { PREPROCESSING, RESIZE_POLICY } from '../shared/model-metadata';
import {
  DEFAULT_METHOD_OPTIONS,
  DEFAULT_SMOOTH,
  DEFAULT_TTA,
  METHOD_OPTION_FIELDS,
  OPTION_FAMILIES,
  TTA_SCALE,
  optionFields,
  parseOptionText,
  type MetaOptions,
  type MethodOptions,
} from '../shared/options';
import { integerField, showValue } from '../shared/schema';
import { geometricAugmentations } from '../core/methods/meta';
import { methodAvailability } from '../core/methods/types';
import { explainImage, passOfInput, passOfPixels, releasePass, type ImagePass } from '../core/pipeline';
import { initNodeBackend } from '../node/backend';
import { loadClassifierFromDirectory, modelDirOrDefault, modelFileOf, readFloat32 } from '../node/files';
import { readImagePixels } from '../node/image';
import { formatCount } from '../shared/format';
import {
  flagValue,
  methodsHelp,
  optionalFlag,
  parseDetectFlag,
  parseMethodsFlag,
  parseNumberList,
  runMain,
  sayModelNotes,
  UsageError,
} from './args';

const TOP = integerField(1, 1000);

/** Every option of every method as a flag (`--scorecam-batch-size 32`), from src/shared/options.ts. */
const OPTION_FLAGS = OPTION_FAMILIES.flatMap((family) => optionFields(family).map(([name, field]) => ({ family, name, field })));

/** The method options' flags for `--help`, from their schemas. */
function optionsHelp(): string {
  return OPTION_FLAGS.map(({ field }) => {
    const shown = field.default === null ? 'all' : String(field.default);
    return `  --${field.flag.padEnd(22)}${field.title}: ${field.allowed} (default ${shown})`;
  }).join('\n');
}

const USAGE = `usage: npm run explain -- [--model DIR] (--image FILE | --input-tensor FILE.f32) [options]

  --model DIR|FILE.onnx   (default: models/resnet50-imagenet, the studio's default) TF.js model folder (layers or graph model: model.json, shards), or an ONNX model (a folder with
                          model.onnx, or the .onnx file); metadata.json / labels.json beside it are read
  --image FILE            image to explain (PNG, JPEG, WebP, GIF, TIFF; EXIF orientation applied)
  --input-tensor FILE     raw little-endian float32 NHWC input, already preprocessed (e.g. golden *.x.f32)
  --methods LIST|all      method ids, comma-separated (default: cam,gradcam); all = every method the model supports
  --labels LIST|detected  class indices to explain, or the detected set (default: detected)
  --detect RULE           detected set: sigmoid:T | prob:T | topk:K | gt:N,N (default: sigmoid:0.5 for sigmoid heads, topk:3 otherwise)
  --top N                 predictions to list (default 5)
  --target-layer NAME     target layer (default: metadata, else the last 4-D layer before pooling)
  --preprocessing ID      ${PREPROCESSING.values.join(' | ')} (default: metadata.json, else unit)
  --resize POLICY         ${RESIZE_POLICY.values.join(' | ')} (default: metadata.json, else squash)
${optionsHelp()}
  --tta                   test-time augmentation: mean of the maps over hflip x scales ${DEFAULT_TTA.scales.join(',')} (and 1),
                          each mapped back to the image; maps are then at input resolution
  --tta-scales LIST       TTA with these scales, e.g. 0.5,1.5 (implies --tta)
  --smooth N              mean of the maps over N noisy copies (Gaussian, sigma = ${DEFAULT_SMOOTH.noiseLevel} (max x - min x));
                          combines with --tta (every copy is augmented); maps at input resolution
  --out FILE.json         write the JSON there (default: standard output)

methods:
${methodsHelp()}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      image: { type: 'string' },
      'input-tensor': { type: 'string' },
      methods: { type: 'string', default: 'cam,gradcam' },
      labels: { type: 'string', default: 'detected' },
      detect: { type: 'string' },
      top: { type: 'string', default: '5' },
      'target-layer': { type: 'string' },
      preprocessing: { type: 'string' },
      resize: { type: 'string' },
      ...Object.fromEntries(OPTION_FLAGS.map(({ field }) => [field.flag, { type: 'string' as const }])),
      tta: { type: 'boolean', default: false },
      'tta-scales': { type: 'string' },
      smooth: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const modelDir = modelDirOrDefault(values.model);
  if (modelFileOf(modelDir) === null)
    throw new UsageError(`no model at ${modelDir}: give a folder with model.json (TF.js) or model.onnx, or an .onnx file`);
  if ((values.image === undefined) === (values['input-tensor'] === undefined))
    throw new UsageError('give exactly one of --image and --input-tensor');

  // Every flag is read (and refused with a message) before anything is loaded.
  const options = parseOptions(values);
  const meta = parseMeta(values.tta, values['tta-scales'], values.smooth);
  const preprocessingFlag = optionalFlag('preprocessing', PREPROCESSING, values.preprocessing);
  const resizeFlag = optionalFlag('resize', RESIZE_POLICY, values.resize);
  const top = flagValue('top', TOP, values.top);
  const rule = values.detect === undefined ? undefined : parseDetectFlag(values.detect);
  const labelsFlag = values.labels === 'detected' ? ('detected' as const) : parseNumberList(values.labels, 'labels');

  const backend = await initNodeBackend('wasm');
  const loaded = await loadClassifierFromDirectory(
    modelDir,
    values['target-layer'] === undefined ? {} : { targetLayer: values['target-layer'] },
  );
  sayModelNotes(loaded.notes, { preprocessingGiven: values.preprocessing !== undefined });
  const adapter = loaded.adapter;
  const [height, width, channels] = adapter.inputShape;
  const methods = parseMethodsFlag(values.methods, () =>
    METHOD_IDS.filter((id) => methodAvailability(methodDescriptor(id), adapter).available),
  );

  let pass: ImagePass;
  if (values['input-tensor'] !== undefined) {
    const data = readFloat32(values['input-tensor']);
    if (data.length !== height * width * channels)
      throw new UsageError(
        `--input-tensor holds ${data.length} floats; the model needs 1x${height}x${width}x${channels} = ${height * width * channels}`,
      );
    const { count, first } = countNonFinite(data);
    if (count > 0)
      throw new UsageError(
        `--input-tensor ${values['input-tensor']} holds ${count} NaN or infinite values (first at float ${first}): give finite values`,
      );
    pass = await passOfInput(adapter, tf.tensor4d(data, [1, height, width, channels]));
  } else {
    const pixels = await readImagePixels(values.image as string, [height, width], resizeFlag ?? loaded.resizePolicy);
    try {
      pass = await passOfPixels(adapter, pixels, preprocessingFlag ?? loaded.preprocessing);
    } finally {
      pixels.dispose();
    }
  }

  let lastProgress = '';
  let lastLogged = 0;
  const showProgress = (line: string): void => {
    // A terminal gets one line rewritten in place; a log file gets a whole line at most every 2 s.
    if (line === lastProgress) return;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
    else if (performance.now() - lastLogged >= 2000) {
      process.stderr.write(`${line}\n`);
      lastLogged = performance.now();
    }
    lastProgress = line;
  };
  const started = performance.now();
  let explained;
  try {
    explained = await explainImage(adapter, pass, {
      labels: labelsFlag,
      methods,
      topK: top,
      options,
      ...(rule === undefined ? {} : { detection: rule }),
      ...(meta === null ? {} : { meta }),
      onAugmentation: (done, total, name) => showProgress(`augmentation ${done}/${total} (${name})`),
      onProgress: (method, done, total, augmentation) =>
        showProgress(
          augmentation === undefined
            ? `${method}: ${done}/${total}`
            : `augmentation ${augmentation.index + 1}/${augmentation.total} (${augmentation.name}) ${method}: ${done}/${total}`,
        ),
    });
  } finally {
    releasePass(pass);
  }
  const wallMs = performance.now() - started;
  if (process.stderr.isTTY && lastProgress !== '') process.stderr.write('\n');

  const timingsMs: Record<string, number> = { forward: pass.forwardMs, ...explained.methodMs };
  const maps: Record<
    string,
    Record<string, { shape: number[]; data: number[]; rawMin: number; rawMax: number; extras?: Record<string, number> }>
  > = {};
  for (const map of explained.maps) {
    (maps[map.method] ??= {})[String(map.label)] = {
      shape: map.shape,
      data: Array.from(map.normalized),
      rawMin: map.rawMin,
      rawMax: map.rawMax,
      ...(Object.keys(map.extras).length > 0 ? { extras: map.extras } : {}),
    };
  }
  const output = {
    backend,
    model: {
      name: loaded.metadata.name ?? modelDir,
      dir: modelDir,
      targetLayer: adapter.targetLayer,
      headKind: adapter.headKind,
      headActivation: adapter.headActivation,
    },
    inputShape: [1, height, width, channels],
    predictions: explained.predictions.map((ranked) => ({ label: ranked.label, name: loaded.labelNames[ranked.label], prob: ranked.prob })),
    detected: explained.detected,
    detectionRule: describeDetectionRule(explained.rule),
    ...(meta === null
      ? {}
      : {
          meta: {
            tta: meta.tta ?? null,
            smooth: meta.smooth ?? null,
            augmentations: geometricAugmentations(meta.tta).length * (meta.smooth?.samples ?? 1),
            resolution: 'input',
            wallMs,
          },
        }),
    maps,
    timingsMs,
  };
  adapter.dispose();
  const text = `${JSON.stringify(output)}\n`;
  if (values.out === undefined) process.stdout.write(text);
  else {
    writeFileSync(values.out, text);
    const mapCount = Object.values(maps).reduce((n, byLabel) => n + Object.keys(byLabel).length, 0);
    process.stderr.write(`wrote ${values.out}: ${mapCount} map${mapCount === 1 ? '' : 's'}, ${formatCount(text.length)} bytes of JSON\n`);
  }
}

/** The method-option flags given, over the defaults (each family whole, as the engine merges them). */
function parseOptions(values: Record<string, unknown>): Partial<MethodOptions> {
  const options: Record<string, Record<string, unknown>> = {};
  for (const family of OPTION_FAMILIES) options[family] = { ...DEFAULT_METHOD_OPTIONS[family] };
  for (const { family, name, field } of OPTION_FLAGS) {
    const text = values[field.flag];
    if (typeof text !== 'string') continue;
    const parsed = parseOptionText(field, text);
    if ('error' in parsed) throw new UsageError(`--${field.flag} ${showValue(text)}: ${parsed.error}`);
    options[family]![name] = parsed.value;
  }
  return options as Partial<MethodOptions>;
}

/** `--tta` / `--tta-scales` / `--smooth` -> the meta-method options, or null when none is asked for. */
function parseMeta(tta: boolean | undefined, ttaScales: string | undefined, smooth: string | undefined): MetaOptions | null {
  const meta: MetaOptions = {};
  if (tta === true || ttaScales !== undefined) {
    const scales =
      ttaScales === undefined ? [...DEFAULT_TTA.scales] : ttaScales.split(',').map((part) => flagValue('tta-scales', TTA_SCALE, part));
    meta.tta = { hflip: DEFAULT_TTA.hflip, scales };
  }
  if (smooth !== undefined)
    meta.smooth = { ...DEFAULT_SMOOTH, samples: flagValue('smooth', METHOD_OPTION_FIELDS.smoothgrad.samples, smooth) };
  return meta.tta === undefined && meta.smooth === undefined ? null : meta;
}

runMain(USAGE, main);
