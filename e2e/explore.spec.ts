/**
 * Exploration (issue #6): editing the detected-set threshold live changes the detected set and the MinMax
 * maps; the feature-map inspector shows the channels of largest weight, their maps, the weights, and CAM
 * next to MinMax-CAM with their difference.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { maxAbsDiff, openStudio, screenshot, testDirectory, waitForModel, waitForResults, waitForState } from './helpers';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples', 'shapes');
const INDEX = JSON.parse(readFileSync(join(SAMPLES, 'index.json'), 'utf8')) as Array<{ file: string; labels: string[] }>;
const MULTI = INDEX.find((entry) => entry.labels.length >= 2)!;

test('the threshold edited live changes the detected set and the MinMax maps; the inspector shows channels, weights and CAM vs MinMax', async ({
  page,
}, testInfo) => {
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  await page.evaluate(async () => {
    const { store } = (window as unknown as { __camStudio: { store: { getState(): { setMethods(m: string[]): Promise<void> } } } })
      .__camStudio;
    await store.getState().setMethods(['cam', 'minmax-cam']);
  });
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, MULTI.file));
  await waitForResults(page, 1);
  const before = await waitForState(
    page,
    (s) => s.detected.length >= 2 && s.maps.some((m) => m.method === 'minmax-cam'),
    'two detected labels and MinMax maps',
  );
  const label = before.detected[0]!;
  const minmaxBefore = before.maps.find((m) => m.method === 'minmax-cam' && m.label === label)!.normalized;

  const value = page.getByTestId('detection-value-input');
  await value.fill('0.001');
  await value.press('Enter');
  const after = await waitForState(
    page,
    (s) => s.detected.length > before.detected.length && s.maps.some((m) => m.method === 'minmax-cam' && m.label === label),
    'a larger detected set after lowering the threshold',
  );
  const minmaxAfter = after.maps.find((m) => m.method === 'minmax-cam' && m.label === label)!.normalized;
  expect(maxAbsDiff(minmaxAfter, minmaxBefore), 'MinMax-CAM of the same label changes with the detected set').toBeGreaterThan(1e-3);
  const camBefore = before.maps.find((m) => m.method === 'cam' && m.label === label)!.normalized;
  const camAfter = after.maps.find((m) => m.method === 'cam' && m.label === label)!.normalized;
  expect(maxAbsDiff(camAfter, camBefore), 'CAM does not depend on the detected set').toBeLessThan(1e-6);

  const inspector = page.getByTestId('inspector');
  await page.getByTestId('inspector-label').selectOption(String(label));
  await expect(inspector).toHaveAttribute('data-state', 'done');
  const thumbs = inspector.locator('button.thumb');
  await expect(thumbs).toHaveCount(12);
  await thumbs.nth(3).click();
  await expect(thumbs.nth(3)).toHaveAttribute('aria-pressed', 'true');
  await expect(inspector.getByRole('img', { name: /weights of/ }).first()).toBeVisible();
  await expect(page.getByTestId('inspector-compare').locator('canvas')).toHaveCount(3);
  await inspector.scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'inspector');
});

test('a queue of three images: explained in the background in order, switching to one done reuses its result', async ({
  page,
}, testInfo) => {
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  const tensors = () =>
    page.evaluate(
      async () =>
        (await (window as unknown as { __camStudio: { engineMemory(): Promise<{ numTensors: number }> } }).__camStudio.engineMemory())
          .numTensors,
    );
  const modelOnly = await tensors();
  const files = INDEX.slice(0, 3).map((entry) => join(SAMPLES, entry.file));
  await page.getByTestId('image-input').setInputFiles(files);
  const items = page.getByTestId('filmstrip-item');
  await expect(items).toHaveCount(3);
  for (let i = 0; i < 3; i += 1) await expect(items.nth(i)).toHaveAttribute('data-status', 'done');
  await expect(items.nth(0).locator('button.filmstrip-pick')).toHaveAttribute('aria-current', 'true');
  await screenshot(page, testInfo, 'queue', 'explore');

  await items.nth(2).locator('button.filmstrip-pick').click();
  await expect(items.nth(2).locator('button.filmstrip-pick')).toHaveAttribute('aria-current', 'true');
  await waitForResults(page, 1);
  const reused = await page.evaluate(() => {
    const { store } = (
      window as unknown as {
        __camStudio: { store: { getState(): { queue: Array<{ result?: unknown }>; result: unknown; imageName: string | null } } };
      }
    ).__camStudio;
    const state = store.getState();
    return { same: state.result === state.queue[2]!.result, name: state.imageName };
  });
  expect(reused).toEqual({ same: true, name: INDEX[2]!.file });
  // Arrow keys on the strip switch too.
  await items.nth(2).locator('button.filmstrip-pick').focus();
  await page.keyboard.press('ArrowLeft');
  await expect(items.nth(1).locator('button.filmstrip-pick')).toHaveAttribute('aria-current', 'true');
  await waitForResults(page, 1);
  // Switching to a queued image sets it in the engine but computes nothing (its result is reused), so the
  // engine holds the model alone: the background analyses and the earlier forward passes left nothing behind.
  expect(await tensors(), 'engine tensors after the queue and three switches').toBe(modelOnly);
});

test('a ground-truth labels file sets the detected set of the current image; a file naming unknown classes gets a message', async ({
  page,
}) => {
  const dir = testDirectory('labels');
  writeFileSync(join(dir, 'truth.json'), '["heart", "circle"]');
  writeFileSync(join(dir, 'bad.txt'), 'unicorn\n');
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, MULTI.file));
  await waitForResults(page, 1);
  await page.getByTestId('labels-file-input').setInputFiles(join(dir, 'truth.json'));
  const state = await waitForState(
    page,
    (s) => [...s.detected].sort().join() === '0,6',
    'the detected set from the labels file (circle 0, heart 6)',
  );
  expect(state.lastError).toBeNull();
  await page.getByTestId('labels-file-input').setInputFiles(join(dir, 'bad.txt'));
  const refused = await waitForState(page, (s) => s.lastError !== null, 'an error for an unknown class');
  expect(refused.lastError).toMatch(/unicorn/);
  expect([...refused.detected].sort().join(), 'the ground truth stays').toBe('0,6');
});
