/**
 * The method library in the studio: every method runs on the tiny model (wasm, quick) and gives a
 * well-formed map per label; a graph model whose head is not GAP -> Dense offers every gradient method and
 * says why CAM and MinMax-CAM are absent.
 */
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { METHOD_IDS } from '../src/shared/methods';
import {
  FIXTURES,
  SERVED_FIXTURES_PATH,
  TINY_MODEL_NAME,
  expectWellFormedMaps,
  getState,
  openStudio,
  screenshot,
  served,
  tinyModelUrl,
  waitForModel,
  waitForResults,
  waitForState,
} from './helpers';

test('every method of the library runs in the studio, one map per label and method', async ({ page, baseURL }, testInfo) => {
  await openStudio(page, { backend: 'wasm', model: tinyModelUrl(baseURL) });
  await waitForModel(page, TINY_MODEL_NAME);
  // Keep the slow methods small: these options go with every request.
  await page.evaluate(async () => {
    const { store } = (window as unknown as { __camStudio: { store: { getState(): { setMethodOptions(p: unknown): Promise<void> } } } })
      .__camStudio;
    await store
      .getState()
      .setMethodOptions({ smoothgrad: { samples: 2, noiseLevel: 0.15, seed: 0 }, integratedGradients: { steps: 4, batchSize: 8 } });
  });
  await page.getByTestId('image-input').setInputFiles(join(FIXTURES, 'small.png'));
  await waitForResults(page, 2);
  for (const id of METHOD_IDS) await expect(page.getByTestId(`method-${id}`), `method-${id} is offered`).toBeEnabled();
  // Choose them all at once through the store (ticking 20 boxes would start 20 superseding analyses).
  await page.evaluate(
    async (ids) => {
      const { store } = (window as unknown as { __camStudio: { store: { getState(): { setMethods(m: string[]): Promise<void> } } } })
        .__camStudio;
      await store.getState().setMethods(ids);
    },
    [...METHOD_IDS],
  );
  for (const id of METHOD_IDS) await expect(page.getByTestId(`method-${id}`)).toBeChecked();
  const state = await waitForState(
    page,
    (s) => s.status !== undefined && s.maps.length > 0 && new Set(s.maps.map((m) => m.method)).size === METHOD_IDS.length,
    'maps for every method',
  );
  await expect(page.getByTestId('results')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const final = await getState(page);
  expectWellFormedMaps(final);
  for (const id of METHOD_IDS) {
    const maps = final.maps.filter((m) => m.method === id);
    expect(maps.length, `${id}: one map per explained label`).toBe(final.labels.length);
  }
  expect(state.backend?.backend).toBe('wasm');
  await expect(page.getByTestId('heatmap')).toHaveCount(final.labels.length * METHOD_IDS.length);
  await screenshot(page, testInfo, 'all-methods');
});

test('a graph model with a generic head: gradient methods run, CAM and MinMax-CAM say why they are absent', async ({
  page,
  baseURL,
}, testInfo) => {
  await openStudio(page, { backend: 'wasm', model: served(`${SERVED_FIXTURES_PATH}/tiny-graph-generic/model.json`, baseURL) });
  await waitForState(page, (s) => s.model !== null && s.model['headKind'] === 'generic', 'the generic graph model loaded');
  for (const id of ['cam', 'minmax-cam', 'd-minmax-cam']) {
    await expect(page.getByTestId(`method-${id}`)).toBeDisabled();
    await expect(page.getByTestId(`method-reason-${id}`)).toContainText('GlobalAveragePooling -> Dense');
  }
  await expect(page.getByTestId('method-gradcam')).toBeEnabled();
  await page.getByTestId('image-input').setInputFiles(join(FIXTURES, 'small.png'));
  const state = await waitForResults(page, 1);
  expect(state.maps.every((m) => m.method === 'gradcam')).toBe(true);
  expectWellFormedMaps(state);
  await screenshot(page, testInfo, 'graph-generic');
});
