/**
 * `npm run evaluate -- --model DIR --images DIR [--masks DIR] --methods ID,ID|all --out report.json`
 *
 * Batch evaluation in Node on the wasm backend, the same src/core code as the studio
 * (src/core/metrics/evaluate.ts): every image of the folder is explained (its detected set, and with
 * --masks the classes of its mask), each map is scored with %IC, %AD, %AR, %ADO, %ARO, F1+ and F1-
 * (and with masks the pointing game and the mIoU of segmentation priors), then aggregated per class and
 * macro-averaged. Writes `report.json` — `{ version, model, settings, images: [per-image records],
 * report }` — after every image (so an interrupted run resumes from it: run the same command again), and
 * `report.csv` beside it (metrics x methods, macro averages, the best per row marked with *). A progress
 * line (images done, rate, time left) goes to standard error.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeDetectionRule } from '../shared/detection';
import { fitMask, type SegmentationMask } from '../shared/metrics/localisation';
import {
  aggregateEvaluations,
  csvAsTextTable,
  parseLabelsFile,
  reportCsv,
  type EvaluationReport,
  type ImageEvaluation,
} from '../shared/metrics/report';
import { METHOD_IDS, methodDescriptor } from '../shared/methods';
import { decodePng } from '../shared/png';
import { integerField, numberField } from '../shared/schema';
import { evaluateImage, type EvaluationSettings } from '../core/metrics/evaluate';
import { methodAvailability } from '../core/methods/types';
import { detectionRuleFor } from '../core/pipeline';
import { preprocess } from '../core/preprocess';
import { initNodeBackend } from '../node/backend';
import { loadClassifierFromDirectory, modelDirOrDefault, modelFileOf } from '../node/files';
import { readImagePixels } from '../node/image';
import { lockOutput, modelFingerprint } from '../node/run-files';
import {
  flagValue,
  methodsHelp,
  optionalFlag,
  parseDetectFlag,
  parseMethodsFlag,
  requireString,
  runMain,
  sayModelNotes,
  UsageError,
} from './args';

const BATCH = integerField(1, 1024);
const TOLERANCE = numberField(0, 10_000);
const THRESHOLD = numberField(0, 1);
const COUNT = integerField(1, 100_000_000);
const CURVE_STEPS = integerField(0, 1000);

const USAGE = `usage: npm run evaluate -- [--model DIR] --images DIR [--masks DIR] [options]

  --model DIR|FILE     (default: models/resnet50-imagenet) TF.js model folder (model.json, shards) or ONNX model (model.onnx, or the .onnx file);
                       metadata.json / labels.json beside it are read
  --images DIR         folder of images (png, jpg, jpeg, webp, gif, bmp, tif); evaluated in name order
  --masks DIR          VOC-style PNG masks (palette indices: 0 background, k + 1 class k, 255 ignore),
                       named like the images (cat.jpg -> cat.png or cat.mask.png; may be the images'
                       own folder): adds the pointing game and mIoU
  --methods LIST|all   method ids (default: cam,gradcam,minmax-cam)
  --detect RULE        sigmoid:T | prob:T | topk:K (default: sigmoid:0.5 for sigmoid heads, topk:3 otherwise);
                       an image with a labels file beside it (x.labels.json or x.txt: class names or
                       indices) is explained for those ground-truth labels instead
  --batch N            masked inputs per forward batch (default 16)
  --tolerance PX       pointing-game tolerance in model-input pixels (default: 15 px scaled from 500 px)
  --bg-threshold T     background threshold of the segmentation priors (default 0.25)
  --curves N           also the deletion / insertion curves in N steps (RISE) and their areas (default 0: none)
  --limit N            evaluate only the first N images
  --shard I/N          evaluate only images I, I + N, I + 2N, … (0 <= I < N): run N processes, one per core,
                       each with its own --out, then --merge their files
  --merge A.json,B.json  take the records of these reports (same model and settings) as done: with every
                       shard merged, nothing is left to evaluate and the whole report is written
  --out FILE.json      the report (default report.json); FILE.csv is written beside it; an existing
                       FILE.json with the same settings is resumed (its images are not evaluated again)
  --fresh              ignore an existing FILE.json and start over

methods:
${methodsHelp()}`;

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff']);

interface ReportFile {
  version: 1;
  /** `fingerprint`: src/node/run-files.ts, the model's files by content (a resume checks it, not `dir`). */
  model: { dir: string; name: string; numClasses: number; labelNames: string[]; fingerprint: string };
  settings: EvaluationSettings & { images: string; masks: string | null };
  images: ImageEvaluation[];
  /** Images that could not be evaluated (unreadable, not an image, a bad mask or labels file), with why. */
  failures: Array<{ name: string; error: string }>;
  report: EvaluationReport;
}

/** Settings that must agree for records to be combined (the folders' paths may differ: images are matched by name). */
const comparableSettings = (settings: ReportFile['settings']): Record<string, unknown> => {
  const { images: _images, masks: _masks, ...rest } = settings;
  return { ...rest, masks: settings.masks !== null };
};

/** The settings that differ between two reports, as `name: theirs -> ours`. */
function settingsDifference(theirs: unknown, ours: ReportFile['settings']): string[] {
  if (typeof theirs !== 'object' || theirs === null) return ['settings: missing'];
  const a = comparableSettings(theirs as ReportFile['settings']);
  const b = comparableSettings(ours);
  return Object.keys({ ...a, ...b })
    .filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .map((key) => `${key}: ${JSON.stringify(a[key])} there, ${JSON.stringify(b[key])} here`);
}

function readMask(path: string): SegmentationMask {
  const png = decodePng(readFileSync(path));
  if (png.colourType !== 3 && png.colourType !== 0)
    throw new UsageError(`${path}: a mask must be a palette (or greyscale) PNG of class indices`);
  return { width: png.width, height: png.height, data: png.data };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      images: { type: 'string' },
      masks: { type: 'string' },
      methods: { type: 'string', default: 'cam,gradcam,minmax-cam' },
      detect: { type: 'string' },
      batch: { type: 'string', default: '16' },
      tolerance: { type: 'string' },
      'bg-threshold': { type: 'string', default: '0.25' },
      limit: { type: 'string' },
      shard: { type: 'string' },
      merge: { type: 'string' },
      curves: { type: 'string', default: '0' },
      out: { type: 'string', default: 'report.json' },
      fresh: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const modelDir = modelDirOrDefault(values.model);
  const imagesDir = requireString(values.images, 'images');
  if (modelFileOf(modelDir) === null)
    throw new UsageError(`no model at ${modelDir}: give a folder with model.json (TF.js) or model.onnx, or an .onnx file`);
  if (!existsSync(imagesDir)) throw new UsageError(`no folder ${imagesDir}`);
  if (values.masks !== undefined && !existsSync(values.masks)) throw new UsageError(`no folder ${values.masks}`);
  const out = values.out;
  if (!out.endsWith('.json')) throw new UsageError('--out must name a .json file');
  // The output is checked (and locked) before any work, so a long run never fails at its end.
  try {
    mkdirSync(dirname(out), { recursive: true });
    accessSync(dirname(out), constants.W_OK);
  } catch (error) {
    throw new UsageError(`--out ${out}: cannot write in ${dirname(out)} (${(error as Error).message})`);
  }
  lockOutput(out);

  // Every flag is read (and refused with a message) before anything is loaded.
  const rule = values.detect === undefined ? undefined : parseDetectFlag(values.detect);
  const batchSize = flagValue('batch', BATCH, values.batch);
  const tolerance = optionalFlag('tolerance', TOLERANCE, values.tolerance);
  const backgroundThreshold = flagValue('bg-threshold', THRESHOLD, values['bg-threshold']);
  const curveSteps = flagValue('curves', CURVE_STEPS, values.curves);
  const limit = optionalFlag('limit', COUNT, values.limit);

  await initNodeBackend('wasm');
  const loaded = await loadClassifierFromDirectory(modelDir);
  sayModelNotes(loaded.notes);
  const adapter = loaded.adapter;
  const [height, width, channels] = adapter.inputShape;
  const methods = parseMethodsFlag(values.methods, () =>
    METHOD_IDS.filter((id) => methodAvailability(methodDescriptor(id), adapter).available),
  );
  const settings: ReportFile['settings'] = {
    methods,
    detection: detectionRuleFor(adapter, rule),
    batchSize,
    pointingTolerance: tolerance ?? Math.max(1, Math.round((15 * Math.max(height, width)) / 500)),
    backgroundThreshold,
    curveSteps,
    images: imagesDir,
    masks: values.masks ?? null,
  };

  // `x.mask.png` files are masks kept beside their images (as in public/samples/shapes), not images.
  let files = readdirSync(imagesDir)
    .filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()) && !name.endsWith('.mask.png'))
    .sort();
  if (limit !== undefined) files = files.slice(0, limit);
  if (values.shard !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(values.shard);
    const [index, count] = match === null ? [NaN, NaN] : [Number(match[1]), Number(match[2])];
    if (!(count >= 1 && index >= 0 && index < count)) throw new UsageError(`--shard takes I/N with 0 <= I < N (got "${values.shard}")`);
    files = files.filter((_, i) => i % count === index);
  }
  if (files.length === 0) throw new UsageError(`no images in ${imagesDir}`);

  const fingerprint = modelFingerprint(dirname(modelFileOf(modelDir)!.file));
  const wanted = new Set(files);
  // Resume: keep the records of an earlier run (and of merged shards) of the same model (by content), the
  // same settings and this folder's images; a damaged record is dropped (and evaluated again), named.
  const recordsOf = (path: string, what: string): ImageEvaluation[] => {
    let previous: Partial<ReportFile>;
    try {
      previous = JSON.parse(readFileSync(path, 'utf8')) as Partial<ReportFile>;
    } catch (error) {
      throw new UsageError(`${path} is not a readable report (${(error as Error).message}): ${what}`);
    }
    const differences = settingsDifference(previous.settings, settings);
    if (previous.model?.fingerprint !== fingerprint)
      differences.unshift(
        previous.model?.fingerprint === undefined
          ? 'the model: that report has no model fingerprint (written by an older version)'
          : `the model: its files differ from ${modelDir}'s (${previous.model.fingerprint.slice(0, 19)}… there, ${fingerprint.slice(0, 19)}… here)`,
      );
    if (!Array.isArray(previous.images)) differences.push('images: not a list of records');
    if (differences.length > 0)
      throw new UsageError(`${path} was made with another model or settings (${differences.join('; ')}): ${what}`);
    const kept: ImageEvaluation[] = [];
    const seen = new Set<string>();
    for (const [index, record] of (previous.images as unknown[]).entries()) {
      const name = (record as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || !wanted.has(name) || seen.has(name)) continue; // another folder's, or twice
      try {
        aggregateEvaluations([record as ImageEvaluation], methods, adapter.numClasses, settings.backgroundThreshold);
      } catch (error) {
        process.stderr.write(`${path}: record ${index} (${name}) is damaged (${(error as Error).message}): evaluating it again\n`);
        continue;
      }
      seen.add(name);
      kept.push(record as ImageEvaluation);
    }
    return kept;
  };
  let records: ImageEvaluation[] = [];
  if (!values.fresh && existsSync(out)) {
    records = recordsOf(out, 'choose another --out to keep it, or --fresh to start over (its records are then lost)');
    process.stderr.write(`resuming ${out}: ${records.length} of ${files.length} images already evaluated\n`);
  }
  for (const path of values.merge?.split(',').filter((part) => part !== '') ?? []) {
    if (!existsSync(path)) throw new UsageError(`--merge: no file ${path}`);
    const known = new Set(records.map((record) => record.name));
    const merged = recordsOf(path, 'only reports of the same command can be merged').filter((record) => !known.has(record.name));
    records.push(...merged);
    process.stderr.write(`merged ${merged.length} images from ${path}\n`);
  }
  const done = new Set(records.map((record) => record.name));
  const model = {
    dir: modelDir,
    name: loaded.metadata.name ?? basename(modelDir),
    numClasses: adapter.numClasses,
    labelNames: loaded.labelNames,
    fingerprint,
  };
  const failures: ReportFile['failures'] = [];
  const order = new Map(files.map((name, index) => [name, index]));
  const write = (): void => {
    records.sort((a, b) => order.get(a.name)! - order.get(b.name)!); // file order, however the run went
    const report = aggregateEvaluations(records, methods, adapter.numClasses, settings.backgroundThreshold);
    const file: ReportFile = { version: 1, model, settings, images: records, failures, report };
    writeFileSync(`${out}.partial`, `${JSON.stringify(file)}\n`);
    renameSync(`${out}.partial`, out); // never a half-written report
    writeFileSync(out.replace(/\.json$/, '.csv'), reportCsv(report, methods));
  };

  const started = performance.now();
  let evaluated = 0;
  const todo = files.filter((name) => !done.has(name));
  for (const name of todo) {
    try {
      records.push(await evaluateFile(name));
    } catch (error) {
      // One bad file (empty, not an image, a bad mask or labels file) is that image's failure, not the run's.
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ name, error: message });
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${name}: not evaluated: ${message}\n`);
    }
    evaluated += 1;
    write();
    const seconds = (performance.now() - started) / 1000;
    const rate = evaluated / seconds;
    const left = (todo.length - evaluated) / rate;
    process.stderr.write(
      `${process.stderr.isTTY ? '\r' : ''}${records.length}/${files.length} images, ${rate.toFixed(2)} images/s, ${Math.ceil(left)} s left${process.stderr.isTTY ? '   ' : '\n'}`,
    );
  }
  if (todo.length === 0) write();
  if (process.stderr.isTTY) process.stderr.write('\n');
  adapter.dispose();
  process.stderr.write(`detected set: ${describeDetectionRule(settings.detection)}; wrote ${out} and ${out.replace(/\.json$/, '.csv')}\n`);
  process.stdout.write(csvAsTextTable(readFileSync(out.replace(/\.json$/, '.csv'), 'utf8')));
  if (failures.length > 0) {
    process.stderr.write(
      `${failures.length} of ${files.length} images could not be evaluated (listed under "failures" in ${out}; run the same command again to retry them):\n` +
        failures.map((failure) => `  ${failure.name}: ${failure.error}\n`).join(''),
    );
    process.exitCode = 3;
  }

  /** One image's record: read, preprocess, its mask and labels file when present, evaluated. */
  async function evaluateFile(name: string): Promise<ImageEvaluation> {
    // The mask and the labels file first: a bad one fails this image before any tensor exists.
    let mask: SegmentationMask | undefined;
    if (values.masks !== undefined) {
      const stem = basename(name, extname(name));
      const maskPath = [join(values.masks, `${stem}.png`), join(values.masks, `${stem}.mask.png`)].find(
        (path) => path !== join(imagesDir, name) && existsSync(path),
      );
      if (maskPath !== undefined) mask = fitMask(readMask(maskPath), width, height, loaded.resizePolicy);
    }
    const stem = basename(name, extname(name));
    const labelsPath = [join(imagesDir, `${stem}.labels.json`), join(imagesDir, `${stem}.txt`)].find((path) => existsSync(path));
    const imageSettings =
      labelsPath === undefined
        ? settings
        : {
            ...settings,
            detection: { kind: 'ground-truth' as const, labels: parseLabelsFile(readFileSync(labelsPath, 'utf8'), loaded.labelNames) },
          };
    const pixels = await readImagePixels(join(imagesDir, name), [height, width], loaded.resizePolicy);
    const input = preprocess(pixels, loaded.preprocessing, channels);
    pixels.dispose();
    try {
      return await evaluateImage(adapter, input, name, imageSettings, mask === undefined ? {} : { mask });
    } finally {
      input.dispose();
    }
  }
}

if (process.argv[1] !== undefined && /evaluate\.ts$/.test(process.argv[1])) runMain(USAGE, main);
