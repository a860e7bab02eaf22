/**
 * Errors: each one is shown in the error banner with a message, and leaves the studio as it was
 * (the loaded model and the last results stay).
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import {
  FIXTURES,
  expectNewError,
  RESNET_NAME,
  SERVED_FIXTURES_PATH,
  getState,
  openStudio,
  screenshot,
  served,
  waitForModel,
  waitForResults,
} from './helpers';

async function expectResnetStillLoaded(page: Page): Promise<void> {
  await waitForModel(page, RESNET_NAME);
  const state = await getState(page);
  expect(state.model?.name, 'the previous model stays loaded').toContain(RESNET_NAME);
}

test('a file that is not an image: error banner, previous results and model kept', async ({ page }, testInfo) => {
  await openStudio(page);
  await waitForModel(page, RESNET_NAME);
  await page.getByTestId('sample-chelsea.png').click();
  const before = await waitForResults(page, 6);
  await expect(page.getByTestId('heatmap')).toHaveCount(6);

  const message = await expectNewError(
    page,
    () => page.getByTestId('image-input').setInputFiles(join(FIXTURES, 'not-an-image.png')),
    'not-an-image.png',
  );
  testInfo.annotations.push({ type: 'error', description: message });
  await screenshot(page, testInfo, 'not-an-image');

  await expectResnetStillLoaded(page);
  await expect(page.getByTestId('heatmap'), 'the previous heatmaps are still shown').toHaveCount(6);
  const after = await getState(page);
  expect(after.labels).toEqual(before.labels);
  expect(after.maps.length).toBe(before.maps.length);
  expect(after.predictions.map((p) => p.label)).toEqual(before.predictions.map((p) => p.label));
});

test('a model with a missing shard (files): error names the file, ResNet50 stays loaded and usable', async ({ page }, testInfo) => {
  await openStudio(page);
  await waitForModel(page, RESNET_NAME);

  const message = await expectNewError(
    page,
    () => page.getByTestId('model-files-input').setInputFiles([join(FIXTURES, 'bad-models', 'missing-shard', 'model.json')]),
    'missing-shard (files)',
  );
  testInfo.annotations.push({ type: 'error', description: message });
  expect(message, 'the message names the missing file').toContain('weights.bin');
  await expect(page.getByTestId('error-banner').filter({ hasText: 'weights.bin' }).first()).toBeVisible();
  await screenshot(page, testInfo, 'missing-shard');

  await expectResnetStillLoaded(page);
  // Still usable.
  await page.getByTestId('sample-chelsea.png').click();
  const state = await waitForResults(page, 6);
  expect(state.model?.name).toContain(RESNET_NAME);
  expect([281, 282, 283, 284, 285]).toContain(state.predictions[0]?.label);
});

test('other bad models (not JSON, no conv layer, missing shard by URL): each an error, ResNet50 stays', async ({
  page,
  baseURL,
}, testInfo) => {
  await openStudio(page);
  await waitForModel(page, RESNET_NAME);

  const notJson = await expectNewError(
    page,
    () => page.getByTestId('model-files-input').setInputFiles([join(FIXTURES, 'bad-models', 'not-json', 'model.json')]),
    'not-json (files)',
  );
  testInfo.annotations.push({ type: 'not-json', description: notJson });
  expect(notJson).toMatch(/json/i);
  await expectResnetStillLoaded(page);

  const loadUrl = async (path: string): Promise<void> => {
    await page.getByTestId('model-url-input').fill(served(path, baseURL));
    await page.getByTestId('model-url-load').click();
  };

  const denseOnly = await expectNewError(
    page,
    () => loadUrl(`${SERVED_FIXTURES_PATH}/bad-models/dense-only/model.json`),
    'dense-only (URL)',
  );
  testInfo.annotations.push({ type: 'dense-only', description: denseOnly });
  expect(denseOnly, 'says why it cannot be explained (no image input / no conv feature map)').toMatch(
    /conv|spatial|feature map|image input|4-d/i,
  );
  await expectResnetStillLoaded(page);

  const missingShard = await expectNewError(
    page,
    () => loadUrl(`${SERVED_FIXTURES_PATH}/bad-models/missing-shard/model.json`),
    'missing-shard (URL)',
  );
  testInfo.annotations.push({ type: 'missing-shard-url', description: missingShard });
  expect(missingShard, 'names the file that could not be fetched').toContain('weights.bin');
  await screenshot(page, testInfo, 'bad-models');
  await expectResnetStillLoaded(page);
});
