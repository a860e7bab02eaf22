/**
 * Image formats and orientation, on the tiny model (quick on wasm): PNG, JPEG with EXIF orientation,
 * WebP, GIF (first frame), BMP all decode and give heatmaps; the engine's tensors return to their count
 * after repeated analyses (the worker's tf.memory()).
 */
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
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
