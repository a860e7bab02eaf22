/**
 * Image formats and orientation, on the tiny model (quick on wasm): PNG, JPEG with EXIF orientation,
 * WebP, GIF (first frame), BMP all decode and give heatmaps; the engine's tensors return to their count
 * after repeated analyses (the worker's tf.memory()).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { FIXTURES, TINY_MODEL_NAME, getState, openStudio, screenshot, tinyModelUrl, waitForModel, waitForState } from './helpers';

const IMAGES = join(FIXTURES, 'images');

async function engineTensors(page: import('@playwright/test').Page): Promise<number> {
  return page.evaluate(async () => {
    const handle = (window as unknown as { __camStudio: { engineMemory(): Promise<{ numTensors: number }> } }).__camStudio;
    return (await handle.engineMemory()).numTensors;
  });
}

test('every browser image format decodes, EXIF orientation is honoured, and analyses leave no tensors behind', async ({ page, baseURL }, testInfo) => {
  await openStudio(page, { backend: 'wasm', model: tinyModelUrl(baseURL) });
  await waitForModel(page, TINY_MODEL_NAME);
  const cases: Array<[string, number, number]> = [
    ['exif-rotated.jpg', 30, 60], // stored 60x30 with orientation 6 (rotate 90): shown 30 wide, 60 high
    ['sample.webp', 40, 24],
    ['animated.gif', 40, 24], // two frames of 40x24: the first is used
    ['sample.bmp', 40, 24],
    [join('..', 'small.png'), 48, 40],
  ];
  let baseline: number | null = null;
  let previousJob: unknown = null;
  for (const [file, width, height] of cases) {
    await page.getByTestId('image-input').setInputFiles(join(IMAGES, file));
    const state = await waitForState(
      page,
      (s) => s['jobId'] !== previousJob && s.maps.length > 0 && (s['image'] as { originalWidth?: number } | null)?.originalWidth === width,
      `results for ${file}`,
    );
    previousJob = state['jobId'];
    const image = state['image'] as { originalWidth: number; originalHeight: number };
    expect([image.originalWidth, image.originalHeight], `${file} decoded size`).toEqual([width, height]);
    expect(state.lastError, `no error for ${file}`).toBeNull();
    const tensors = await engineTensors(page);
    baseline ??= tensors;
    expect(tensors, `engine tensors after ${file}`).toBe(baseline);
  }
  await screenshot(page, testInfo, 'last-format');
  expect((await getState(page)).backend?.backend).toBe('wasm');
});

test('odd images: grayscale, palette, 16-bit, alpha, CMYK, 1x1 decode; empty, truncated and SVG files get a message (never run); earlier results stay', async ({ page, baseURL }, testInfo) => {
  const dir = mkdtempSync(join(tmpdir(), 'cam-odd-images-'));
  const rgb = Buffer.from(Array.from({ length: 20 * 12 * 3 }, (_, i) => (i * 37) % 256));
  const make = async (name: string, image: sharp.Sharp): Promise<string> => {
    const path = join(dir, name);
    await image.toFile(path);
    return path;
  };
  const raw = (channels: 1 | 3 | 4) => sharp(channels === 3 ? rgb : Buffer.from(Array.from({ length: 20 * 12 * channels }, (_, i) => (i * 53) % 256)), { raw: { width: 20, height: 12, channels } });
  const decodable: Array<[string, number, number]> = [
    [await make('gray.png', raw(1).png()), 20, 12],
    [await make('palette.png', raw(3).png({ palette: true })), 20, 12],
    [await make('sixteen-bit.png', raw(3).toColourspace('rgb16').png()), 20, 12],
    [await make('alpha.png', raw(4).png()), 20, 12],
    [await make('cmyk.jpg', raw(3).toColourspace('cmyk').jpeg()), 20, 12],
    [await make('one-pixel.png', sharp({ create: { width: 1, height: 1, channels: 3, background: '#c04020' } }).png()), 1, 1],
  ];
  const jpeg = await raw(3).resize(200, 120).jpeg().toBuffer();
  const truncated = join(dir, 'truncated.jpg');
  writeFileSync(truncated, jpeg.subarray(0, Math.floor(jpeg.length / 3)));
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, '');
  const svg = join(dir, 'drawing.svg');
  writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="12"><script>window.__svgRan = 1</script><rect width="20" height="12" fill="red"/></svg>');

  await openStudio(page, { backend: 'wasm', model: tinyModelUrl(baseURL) });
  await waitForModel(page, TINY_MODEL_NAME);
  let previousJob: unknown = null;
  for (const [path, width, height] of decodable) {
    await page.getByTestId('image-input').setInputFiles(path);
    const state = await waitForState(
      page,
      (s) => s['jobId'] !== previousJob && s.maps.length > 0 && (s['image'] as { originalWidth?: number } | null)?.originalWidth === width,
      `results for ${path}`,
    );
    previousJob = state['jobId'];
    expect((state['image'] as { originalHeight: number }).originalHeight).toBe(height);
    expect(state.lastError, `no error for ${path}`).toBeNull();
  }
  const before = await getState(page);
  for (const [path, expected] of [[empty, /empty \(0 bytes\)/], [svg, /could not be decoded/], [truncated, null]] as const) {
    const previousError = (await getState(page)).lastError;
    await page.getByTestId('image-input').setInputFiles(path);
    if (expected === null) {
      // A truncated JPEG: browsers draw what arrived (grey below) or refuse it; either way the studio answers.
      const state = await waitForState(page, (s) => (s.lastError !== null && s.lastError !== previousError) || (s['jobId'] !== previousJob && (s['image'] as { originalWidth?: number } | null)?.originalWidth === 200), `an answer for ${path}`);
      testInfo.annotations.push({ type: 'truncated-jpeg', description: state.lastError ?? 'decoded (partially)' });
      continue;
    }
    const state = await waitForState(page, (s) => s.lastError !== null && s.lastError !== previousError, `an error for ${path}`);
    expect(state.lastError).toMatch(expected);
    expect(state.maps.length, 'the earlier heatmaps stay').toBe(before.maps.length);
    await page.getByRole('button', { name: 'Dismiss error' }).click();
  }
  expect(await page.evaluate(() => (window as unknown as { __svgRan?: number }).__svgRan ?? null), 'the SVG script never ran').toBeNull();
  await screenshot(page, testInfo, 'odd-images');
});
