/**
 * Same photo, same answer everywhere (issue #16): the studio's worker and the command line fit a photo to
 * the model with one shared resampling (src/shared/model-input.ts, Pillow's bilinear), so the ResNet50
 * gets the same input bytes and gives the same top-5 in both, on PNG and JPEG photos of several sizes and
 * aspect ratios (landscape 451x300, 600x400, 640x427, and a 213x427 portrait strip cut from rocket.jpg).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { readImagePixels } from '../src/node/image';
import { dropFiles, getState, openStudio, RESNET_NAME, ROOT, testDirectory, waitForModel, waitForState } from './helpers';

interface CliOutput {
  backend: string;
  predictions: Array<{ label: number; prob: number }>;
}

test('the studio and npm run explain feed ResNet50 the same pixels and agree on the top-5', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const dir = testDirectory('same-input');
  const portrait = join(dir, 'rocket-portrait.jpg');
  await sharp(join(ROOT, 'public/samples/rocket.jpg'))
    .extract({ left: 213, top: 0, width: 213, height: 427 })
    .jpeg({ quality: 90 })
    .toFile(portrait);
  const photos = ['chelsea.png', 'coffee.png', 'rocket.jpg'].map((name) => join(ROOT, 'public/samples', name)).concat(portrait);

  await openStudio(page, { backend: 'wasm' });
  await waitForModel(page, RESNET_NAME);
  const report: string[] = [];
  for (const photo of photos) {
    const name = photo.split('/').pop()!;
    await dropFiles(page, [photo]);
    const state = await waitForState(
      page,
      (s) => s.image?.name === name && s.predictions.length >= 5 && s.status.analysis === 'done',
      `predictions for ${name}`,
    );
    expect(state.backend?.backend, 'the backend that ran').toBe('wasm');
    const studio = await page.evaluate(async () => {
      const before = (await window.__camStudio!.engineMemory()).numTensors;
      const input = await window.__camStudio!.modelInput();
      const after = (await window.__camStudio!.engineMemory()).numTensors;
      return { height: input.height, width: input.width, pixels: Array.from(input.pixels), leaked: after - before };
    });
    expect(studio.leaked, 'modelInput() leaves no tensors in the engine').toBe(0);
    const cliPixels = await readImagePixels(photo, [224, 224], 'squash');
    const cli = Array.from(await cliPixels.data());
    cliPixels.dispose();
    expect([studio.height, studio.width]).toEqual([224, 224]);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < cli.length; i += 1) {
      const d = Math.abs(cli[i]! - studio.pixels[i]!);
      max = Math.max(max, d);
      sum += d;
    }
    const output = JSON.parse(
      execFileSync(
        process.execPath,
        [
          join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
          join(ROOT, 'src/cli/explain.ts'),
          '--model',
          join(ROOT, 'models/resnet50-imagenet'),
          '--image',
          photo,
          '--methods',
          'cam',
        ],
        { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 },
      ),
    ) as CliOutput;
    const studioTop = state.predictions.slice(0, 5);
    const cliTop = output.predictions.slice(0, 5);
    const probGap = Math.max(...studioTop.map((p, k) => Math.abs(p.prob - cliTop[k]!.prob)));
    report.push(
      `${name}: input max |diff| ${max}, mean ${(sum / cli.length).toFixed(4)}; top-1 ${studioTop[0]!.name} studio ${(studioTop[0]!.prob * 100).toFixed(2)}% cli ${(cliTop[0]!.prob * 100).toFixed(2)}%; top-5 prob gap ${probGap.toExponential(1)}`,
    );
    expect(max, `${name}: largest difference between the studio's and the CLI's model input (grey levels)`).toBeLessThanOrEqual(1);
    expect(
      studioTop.map((p) => p.label),
      `${name}: top-5`,
    ).toEqual(cliTop.map((p) => p.label));
    expect(probGap, `${name}: top-5 probabilities`).toBeLessThan(0.01);
  }
  testInfo.annotations.push({ type: 'studio-vs-cli-input', description: report.join(' | ') });
  console.log(report.join('\n'));
  expect((await getState(page)).model?.name).toContain(RESNET_NAME);
});
