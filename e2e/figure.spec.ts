/**
 * Publication figures (issue #6): the Figures mode is on the first screen; a figure of two shapes scenes x
 * three methods exports to PNG at the chosen scale (pixel size checked) and to SVG (parsed); its saved
 * settings regenerate the same figure with `npm run figure` (same size, small pixel difference: only the
 * text is rasterised differently, by Chromium vs librsvg); one map exports as .npy.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { openStudio, screenshot, testDirectory, waitForModel } from './helpers';

const ROOT = join(import.meta.dirname, '..');

/** The figure test on the 64-px synthetic scenes (shapes model) and on photos (the default ResNet50). */
const CASES = [
  {
    what: 'shapes scenes',
    params: { model: 'models/shapes-resnet/model.json', backend: 'wasm' },
    modelName: 'Shapes ResNet',
    modelId: 'shapes-resnet',
    samples: ['shapes/scene-00.png', 'shapes/scene-01.png'],
    /** Width / height of each sample (the ResNets squash: the figure shows the whole photo at its shape). */
    aspects: [1, 1],
    screenshot: true,
  },
  {
    what: 'photos',
    params: { backend: 'wasm' },
    modelName: 'ResNet50',
    modelId: 'resnet50-imagenet',
    samples: ['chelsea.png', 'rocket.jpg'],
    aspects: [451 / 300, 640 / 427],
    screenshot: false,
  },
];

async function rgba(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

for (const { what, params, modelName, modelId, samples: SCENES, aspects, screenshot: keepScreenshot } of CASES)
  test(`figure builder on ${what}: PNG at 2x, SVG, saved settings reproduced by npm run figure, one map as .npy`, async ({
    page,
  }, testInfo) => {
    test.setTimeout(300_000);
    await openStudio(page, params);
    await waitForModel(page, modelName);
    await expect(page.getByRole('tab', { name: 'Figures' })).toBeVisible();
    await page.getByRole('tab', { name: 'Figures' }).click();
    const builder = page.getByTestId('figure-builder');
    await expect(builder).toBeVisible();

    for (const scene of SCENES) await page.getByTestId('figure-sample').selectOption(scene);
    await expect(page.getByTestId('figure-images').locator('li')).toHaveCount(2);
    const tensors = () =>
      page.evaluate(
        async () =>
          (await (window as unknown as { __camStudio: { engineMemory(): Promise<{ numTensors: number }> } }).__camStudio.engineMemory())
            .numTensors,
      );
    const before = await tensors();
    await page.getByTestId('figure-build').click();
    await expect(builder).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
    expect(await tensors(), 'explaining the figure rows leaves no tensors in the engine').toBe(before);
    const preview = page.getByTestId('figure-preview');
    await expect(preview).toBeVisible();
    const [cssWidth, cssHeight] = [Number(await preview.getAttribute('width')), Number(await preview.getAttribute('height'))];
    expect(cssWidth).toBe(Math.round((174 * 96) / 25.4)); // two journal columns, the default
    if (keepScreenshot) await screenshot(page, testInfo, 'figure-builder', 'figures');

    const dir = testDirectory('figure');
    await page.getByTestId('figure-scale').selectOption('2');
    const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('figure-export-png').click()]);
    const studioPng = join(dir, 'studio.png');
    await pngDownload.saveAs(studioPng);
    const studio = await rgba(studioPng);
    expect([studio.width, studio.height]).toEqual([cssWidth * 2, cssHeight * 2]);

    const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('figure-export-svg').click()]);
    const svgPath = join(dir, 'figure.svg');
    await svgDownload.saveAs(svgPath);
    const parsed = await page.evaluate(
      (text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        return {
          error: doc.querySelector('parsererror') !== null,
          root: doc.documentElement.nodeName,
          images: doc.querySelectorAll('image').length,
          width: doc.documentElement.getAttribute('width'),
        };
      },
      readFileSync(svgPath, 'utf8'),
    );
    expect(parsed).toEqual({ error: false, root: 'svg', images: 2 * 4, width: String(cssWidth) });
    // The cells' boxes, in CSS px: each row keeps its photo's aspect ratio (to the whole-pixel rounding).
    const boxes = [...readFileSync(svgPath, 'utf8').matchAll(/<image x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map(
      (match) => match.slice(1, 5).map(Number) as [number, number, number, number],
    );
    expect(boxes).toHaveLength(2 * 4);
    aspects.forEach((aspect, row) => {
      const [, , width, height] = boxes[row * 4]!;
      expect(Math.abs(width / height / aspect - 1), `row ${row}: ${width}x${height} for aspect ${aspect.toFixed(3)}`).toBeLessThan(0.02);
    });

    const [settings] = await Promise.all([page.waitForEvent('download'), page.getByTestId('figure-save').click()]);
    const configPath = join(dir, 'figure.json');
    await settings.saveAs(configPath);
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { model: string; images: Array<{ name: string; src?: string }> };
    expect(config.model).toBe(modelId);
    expect(config.images.map((image) => image.src)).toEqual(SCENES.map((scene) => `samples/${scene}`));

    const cliPng = join(dir, 'cli.png');
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(ROOT, 'src', 'cli', 'figure.ts'),
        '--config',
        configPath,
        '--out',
        cliPng,
        '--scale',
        '2',
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const cli = await rgba(cliPng);
    expect([cli.width, cli.height]).toEqual([studio.width, studio.height]);
    let sum = 0;
    let differing = 0;
    for (let i = 0; i < cli.data.length; i += 1) {
      const d = Math.abs(cli.data[i]! - studio.data[i]!);
      sum += d;
      if (d > 16) differing += 1;
    }
    const meanAbs = sum / cli.data.length;
    const differingShare = differing / cli.data.length;
    // Inside the cells (the pixels both sides compute, away from the text), at 2x raster pixels per CSS px.
    let cellSum = 0;
    let cellChannels = 0;
    for (const [x, y, width, height] of boxes)
      for (let row = y * 2; row < (y + height) * 2; row += 1)
        for (let i = (row * cli.width + x * 2) * 4; i < (row * cli.width + (x + width) * 2) * 4; i += 1) {
          cellSum += Math.abs(cli.data[i]! - studio.data[i]!);
          cellChannels += 1;
        }
    const cellMeanAbs = cellSum / cellChannels;
    testInfo.annotations.push({
      type: `figure-cli-vs-studio (${what})`,
      description: `mean |diff| ${meanAbs.toFixed(3)} levels (${cellMeanAbs.toFixed(3)} inside the cells), ${(differingShare * 100).toFixed(2)}% of channels differ by > 16`,
    });
    console.log(`figure-cli-vs-studio (${what}): ${testInfo.annotations.at(-1)!.description}`);
    expect(cellMeanAbs, 'mean absolute difference inside the cells, 0-255').toBeLessThan(0.5);
    expect(meanAbs, 'mean absolute difference per channel, 0-255').toBeLessThan(2);
    expect(differingShare, 'share of channels differing by more than 16 levels (text edges)').toBeLessThan(0.03);

    const [npy] = await Promise.all([page.waitForEvent('download'), page.getByTestId('figure-npy-raw').click()]);
    const npyPath = join(dir, 'map.npy');
    await npy.saveAs(npyPath);
    const bytes = readFileSync(npyPath);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    const headerLength = bytes.readUInt16LE(8);
    const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
    const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
    expect(shape, header).not.toBeNull();
    expect(bytes.length - 10 - headerLength).toBe(Number(shape![1]) * Number(shape![2]) * 4);
  });
