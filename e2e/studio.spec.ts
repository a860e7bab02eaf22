/**
 * The studio with its default model (ResNet50, ImageNet) on the default backend choice (auto):
 * startup, a sample image, predictions and heatmaps, and a clean console.
 */
import { expect, test } from '@playwright/test';
import {
  RESNET_NAME,
  canvasStats,
  expectCanvasNotBlank,
  expectWellFormedMaps,
  getState,
  mapKey,
  openStudio,
  screenshot,
  waitForModel,
  waitForResults,
  waitForState,
  watchPageProblems,
} from './helpers';

const METHODS = ['cam', 'gradcam'] as const;
/** ImageNet classes 281-285: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
const CAT_CLASSES = [281, 282, 283, 284, 285];

test('starts with the default ResNet50 on the backend auto picks, and says which', async ({ page }, testInfo) => {
  await openStudio(page);
  await waitForModel(page, RESNET_NAME);
  await screenshot(page, testInfo, 'model-ready');

  const state = await getState(page);
  expect(state.model, 'getState().model after loading').not.toBeNull();
  expect(state.model?.name).toContain(RESNET_NAME);
  expect(state.model?.inputShape).toEqual([224, 224, 3]);
  expect(state.model?.numClasses).toBe(1000);

  const report = state.backend;
  expect(report, 'getState().backend').not.toBeNull();
  if (report === null) return;
  expect(['webgpu', 'wasm', 'webgl', 'cpu']).toContain(report.backend);
  expect(report.requested).toBe('auto');
  expect(report.reason.trim().length, 'the backend report says why').toBeGreaterThan(0);

  // The badge shows the backend that actually runs.
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toHaveAttribute('data-backend', report.backend);
  await expect(badge).not.toHaveText(/^\s*$/);
  await expect(page.getByTestId('backend-select')).toHaveValue('auto');

  // auto: WebGPU on a real GPU; on a software (fallback) adapter such as SwiftShader, or none, wasm.
  const realGpu = report.adapter !== null && !report.adapter.isFallbackAdapter;
  testInfo.annotations.push({
    type: 'backend',
    description: `${report.backend} (adapter: ${report.adapter ? `${report.adapter.vendor}/${report.adapter.architecture}, fallback=${report.adapter.isFallbackAdapter}` : 'none'}); reason: ${report.reason}`,
  });
  expect(report.backend, `auto with ${realGpu ? 'a real GPU adapter' : 'no real GPU adapter'}`).toBe(realGpu ? 'webgpu' : 'wasm');
});

test('sample chelsea.png: a cat, and one non-blank heatmap per chosen label and method', async ({ page }, testInfo) => {
  await openStudio(page);
  await waitForModel(page, RESNET_NAME);
  await expect(page.getByTestId('results')).toHaveAttribute('data-state', 'idle');

  await page.getByTestId('sample-chelsea.png').click();
  const state = await waitForResults(page, 6);
  await screenshot(page, testInfo, 'chelsea-results');

  // Predictions: sorted, probabilities, the top-1 a cat.
  const { predictions, labels, maps } = state;
  expect(predictions.length).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < predictions.length; i++) {
    expect(predictions[i]?.prob ?? NaN, 'predictions sorted by probability').toBeLessThanOrEqual(predictions[i - 1]?.prob ?? NaN);
  }
  for (const p of predictions) {
    expect(p.prob).toBeGreaterThanOrEqual(0);
    expect(p.prob).toBeLessThanOrEqual(1);
    expect(Number.isFinite(p.logit)).toBe(true);
    expect(p.name.trim().length, `class ${p.label} has a name`).toBeGreaterThan(0);
  }
  const top = predictions[0];
  testInfo.annotations.push({
    type: 'top-3',
    description: predictions
      .slice(0, 3)
      .map((p) => `${p.label} ${p.name} ${p.prob.toFixed(3)}`)
      .join('; '),
  });
  expect(CAT_CLASSES, `top-1 ${top?.label} (${top?.name}) is a cat class`).toContain(top?.label);

  // Default labels for a softmax head: the top 3.
  expect(labels).toEqual(predictions.slice(0, 3).map((p) => p.label));

  // The prediction rows: one per prediction; the explained labels are checked.
  const rows = page.getByTestId('prediction-row');
  await expect(rows).toHaveCount(predictions.length);
  for (const label of labels) {
    const row = page.locator(`[data-testid="prediction-row"][data-label="${label}"]`);
    await expect(row).toHaveCount(1);
    await expect(row.locator('input[type="checkbox"]')).toBeChecked();
  }

  // One map per (label, method) in the state, well formed, at ResNet50's 7x7 feature resolution.
  expect(maps.map(mapKey).sort()).toEqual(labels.flatMap((label) => METHODS.map((method) => `${method}:${label}`)).sort());
  for (const map of maps) expect(map.shape).toEqual([7, 7]);
  expectWellFormedMaps(state);

  // One canvas per (label, method) on the page, none blank.
  const canvases = page.getByTestId('heatmap');
  await expect(canvases).toHaveCount(labels.length * METHODS.length);
  for (const label of labels) {
    for (const method of METHODS) {
      const canvas = page.locator(`[data-testid="heatmap"][data-method="${method}"][data-label="${label}"]`);
      await expect(canvas, `heatmap ${method} for label ${label}`).toHaveCount(1);
      expectCanvasNotBlank(await canvasStats(canvas), `heatmap ${method}:${label}`);
    }
  }
});

test('a normal session raises no page errors and logs no console errors', async ({ page }, testInfo) => {
  const problems = watchPageProblems(page);
  await openStudio(page);
  await waitForModel(page, RESNET_NAME);

  await page.getByTestId('sample-chelsea.png').click();
  const first = await waitForResults(page, 6);
  const firstTop = first.predictions[0]?.label;

  // A second image replaces the results.
  await page.getByTestId('sample-coffee.png').click();
  await waitForState(page, (s) => s.maps.length > 0 && s.predictions[0]?.label !== firstTop, 'results for coffee.png');
  await expect(page.getByTestId('results')).toHaveAttribute('data-state', 'done');
  await screenshot(page, testInfo, 'coffee-results');

  const state = await getState(page);
  expect(state.lastError, 'getState().lastError').toBeNull();
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(problems.pageErrors, 'uncaught page errors').toEqual([]);
  expect(problems.consoleErrors, 'console errors').toEqual([]);
});
