/**
 * Image formats and orientation, on the tiny model (quick on wasm): PNG, JPEG with EXIF orientation,
 * WebP, GIF (first frame), BMP all decode and give heatmaps; the engine's tensors return to their count
 * after repeated analyses (the worker's tf.memory()).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import {
  FIXTURES,
  TINY_MODEL_NAME,
  getState,
  openStudio,
  screenshot,
  testDirectory,
  tinyModelUrl,
  waitForModel,
  waitForState,
} from './helpers';

const IMAGES = join(FIXTURES, 'images');

async function engineTensors(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const handle = (window as unknown as { __camStudio: { engineMemory(): Promise<{ numTensors: number }> } }).__camStudio;
    return (await handle.engineMemory()).numTensors;
  });
}

test('every browser image format decodes, EXIF orientation is honoured, and analyses leave no tensors behind', async ({
  page,
  baseURL,
}, testInfo) => {
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

test('odd images: grayscale, palette, 16-bit, alpha, CMYK, 1x1 decode; empty, truncated and SVG files get a message (never run); earlier results stay', async ({
  page,
  baseURL,
}, testInfo) => {
  const dir = testDirectory('odd-images');
  const rgb = Buffer.from(Array.from({ length: 20 * 12 * 3 }, (_, i) => (i * 37) % 256));
  const make = async (name: string, image: sharp.Sharp): Promise<string> => {
    const path = join(dir, name);
    await image.toFile(path);
    return path;
  };
  const raw = (channels: 1 | 3 | 4) =>
    sharp(channels === 3 ? rgb : Buffer.from(Array.from({ length: 20 * 12 * channels }, (_, i) => (i * 53) % 256)), {
      raw: { width: 20, height: 12, channels },
    });
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
  writeFileSync(
    svg,
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="12"><script>window.__svgRan = 1</script><rect width="20" height="12" fill="red"/></svg>',
  );

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
  for (const [path, expected] of [
    [empty, /empty \(0 bytes\)/],
    [svg, /could not be decoded/],
    [truncated, null],
  ] as const) {
    const previousError = (await getState(page)).lastError;
    await page.getByTestId('image-input').setInputFiles(path);
    if (expected === null) {
      // A truncated JPEG: browsers draw what arrived (grey below) or refuse it; either way the studio answers.
      const state = await waitForState(
        page,
        (s) =>
          (s.lastError !== null && s.lastError !== previousError) ||
          (s['jobId'] !== previousJob && (s['image'] as { originalWidth?: number } | null)?.originalWidth === 200),
        `an answer for ${path}`,
      );
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

/**
 * A valid 1-bit palette PNG of any size (a light left half, a dark right half): a few KB on disk however
 * large, but 4 bytes per pixel once a browser decodes it.
 */
function twoTonePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const framed = Buffer.alloc(body.length + 8);
    framed.writeUInt32BE(data.length, 0);
    body.copy(framed, 4);
    framed.writeUInt32BE(crc32(body), body.length + 4);
    return framed;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 3; // palette
  const rowBytes = 1 + Math.ceil(width / 8);
  const row = Buffer.alloc(rowBytes);
  for (let x = Math.floor(width / 2); x < width; x += 1) row[1 + (x >> 3)]! |= 0x80 >> (x & 7);
  const raw = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y += 1) row.copy(raw, y * rowBytes);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from([230, 220, 200, 30, 40, 90])),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('huge images: 20000 x 20000 is refused before decoding with a message, earlier results kept; 6000 x 4500 is decoded scaled down and explained', async ({
  page,
  baseURL,
}, testInfo) => {
  const dir = testDirectory('huge-images');
  const huge = join(dir, 'huge-20000.png');
  writeFileSync(huge, twoTonePng(20000, 20000));
  const large = join(dir, 'large-6000x4500.png');
  writeFileSync(large, twoTonePng(6000, 4500));

  await openStudio(page, { backend: 'wasm', model: tinyModelUrl(baseURL) });
  await waitForModel(page, TINY_MODEL_NAME);
  await page.getByTestId('image-input').setInputFiles(large);
  const scaled = await waitForState(
    page,
    (s) => s.maps.length > 0 && (s['image'] as { originalWidth?: number } | null)?.originalWidth === 4096,
    'results for the 6000 x 4500 image',
  );
  const image = scaled['image'] as { originalWidth: number; originalHeight: number; policyDescription: string };
  expect(image.originalHeight).toBe(3072);
  expect(image.policyDescription).toMatch(/^Decoded at 4096x3072 from 6000x4500; /);
  expect(scaled.lastError).toBeNull();
  const before = await getState(page);

  await page.getByTestId('image-input').setInputFiles(huge);
  const refused = await waitForState(page, (s) => s.lastError !== null, 'an error for the 20000 x 20000 image');
  testInfo.annotations.push({ type: 'huge-image', description: refused.lastError ?? '' });
  expect(refused.lastError).toMatch(/20000 x 20000 pixels \(400 megapixels\); the studio decodes at most 100 megapixels/);
  expect(refused['lastErrorCode']).toBe('image-too-large');
  expect(refused.maps.length, 'the earlier heatmaps stay').toBe(before.maps.length);
  expect((refused['image'] as { originalWidth: number }).originalWidth, 'the earlier image stays').toBe(4096);
  await expect(page.getByTestId('heatmap').first()).toBeVisible();
  await screenshot(page, testInfo, 'huge-image');
});
