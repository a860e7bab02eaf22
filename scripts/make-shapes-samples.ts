#!/usr/bin/env -S npx tsx
// Writes the synthetic-shapes sample set into public/samples/shapes/ (deterministic; run with
// `npx tsx scripts/make-shapes-samples.ts`): the first 16 scenes of the test split at the shapes models'
// input size (DEFAULT_TRAIN_CONFIG, so the studio feeds them to the model unresampled), as RGB PNG
// images (scene-XX.png), VOC palette PNG masks (scene-XX.mask.png: 0 background, k + 1 class k, 255 ignore)
// and index.json ([{ file, mask, labels: [class names], seed, size }]). Used by tests and the gallery.
//
// Options, to write a larger set elsewhere (e.g. for `npm run evaluate`): --count N (default 16),
// --split train|validation|test (default test), --out DIR (default public/samples/shapes).
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHAPE_CLASSES, generateSplitScene } from '../src/data/shapes/index.ts';
import { encodeIndexedPng, encodeRgbPng } from '../src/shared/png.ts';
import { parseArgs } from 'node:util';
import { DEFAULT_TRAIN_CONFIG } from '../src/train/train.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '16' }, split: { type: 'string', default: 'test' }, out: { type: 'string' } },
});
const COUNT = Number(values.count);
const SPLIT = values.split as 'train' | 'validation' | 'test';
if (!['train', 'validation', 'test'].includes(SPLIT) || !(COUNT > 0))
  throw new Error('usage: --count N --split train|validation|test --out DIR');
const SIZE = DEFAULT_TRAIN_CONFIG.model.inputSize ?? 96;
const out =
  values.out === undefined
    ? join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'public', 'samples', 'shapes')
    : resolve(values.out);
mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) if (/^scene-\d+(\.mask)?\.png$/.test(name)) rmSync(join(out, name));

const index = [];
for (let i = 0; i < COUNT; i += 1) {
  const scene = generateSplitScene(SPLIT, i, { size: SIZE });
  const stem = `scene-${String(i).padStart(COUNT > 100 ? 4 : 2, '0')}`;
  writeFileSync(join(out, `${stem}.png`), encodeRgbPng(scene.image, SIZE, SIZE));
  writeFileSync(join(out, `${stem}.mask.png`), encodeIndexedPng(scene.mask, SIZE, SIZE));
  index.push({
    file: `${stem}.png`,
    mask: `${stem}.mask.png`,
    labels: scene.labels.map((k) => SHAPE_CLASSES[k]),
    seed: scene.seed,
    size: SIZE,
  });
}
writeFileSync(join(out, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
const total = readdirSync(out).reduce((sum, name) => sum + statSync(join(out, name)).size, 0);
console.log(`wrote ${COUNT} scenes to ${out} (${(total / 1024).toFixed(1)} KiB in all)`);
