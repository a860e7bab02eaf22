/**
 * The tiny fixture model (e2e/fixtures/tiny-cnn, 32x32 input, GAP -> Dense softmax head): it runs on WebGPU
 * (SwiftShader on machines without a GPU) and gives the same maps as wasm; it loads from files; the backend
 * can be switched at run time.
 */
import { join } from 'node:path';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import {
  FIXTURES,
  TINY_LABEL_NAMES,
  TINY_MODEL_FILES,
  TINY_MODEL_NAME,
  canvasStats,
  expectCanvasNotBlank,
  expectWellFormedMaps,
  getState,
  mapKey,
  maxAbsDiff,
  openStudio,
  screenshot,
  tinyModelUrl,
  waitForModel,
  waitForResults,
  waitForState,
  type BackendName,
  type StateSnapshot,
} from './helpers';

const SMALL_PNG = join(FIXTURES, 'small.png');
const TOLERANCE = 1e-3;

/** Opens the studio on `backend` with the tiny model, analyses small.png, returns the snapshot. */
async function analyseTiny(page: Page, testInfo: TestInfo, backend: BackendName, baseURL: string | undefined): Promise<StateSnapshot> {
  await openStudio(page, { backend, model: tinyModelUrl(baseURL) });
  await waitForModel(page, TINY_MODEL_NAME);
  const loaded = await getState(page);
  expect(loaded.backend?.backend, `getState().backend.backend with ?backend=${backend} (the backend that really runs)`).toBe(backend);
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', backend);
  expect(loaded.model?.inputShape).toEqual([32, 32, 3]);
  expect(loaded.model?.numClasses).toBe(4);
  expect(loaded.model?.targetLayer).toBe('target_relu');

  await page.getByTestId('image-input').setInputFiles(SMALL_PNG);
  const state = await waitForResults(page, 2);
  await screenshot(page, testInfo, `${backend}-results`);
  expect(state.backend?.backend).toBe(backend);
  expectWellFormedMaps(state);
  for (const map of state.maps) expect(map.shape, `${mapKey(map)} at target_relu's resolution`).toEqual([32, 32]);
  for (const p of state.predictions) expect(TINY_LABEL_NAMES).toContain(p.name);
  const canvases = page.getByTestId('heatmap');
  await expect(canvases).toHaveCount(state.maps.length);
  for (let i = 0; i < state.maps.length; i++) {
    const stats = await canvasStats(canvases.nth(i));
    if ((state.maps[i]?.rawMax ?? 0) > 0) expectCanvasNotBlank(stats, `${backend} heatmap ${i}`);
  }
  return state;
}

test('WebGPU really runs the tiny model, and its maps match wasm within 1e-3', async ({ page, baseURL }, testInfo) => {
  const gpu = await analyseTiny(page, testInfo, 'webgpu', baseURL);
  testInfo.annotations.push({
    type: 'adapter',
    description: JSON.stringify(gpu.backend?.adapter ?? null),
  });
  const cpuSide = await analyseTiny(page, testInfo, 'wasm', baseURL);

  // Same image, same model: the same predictions and the same default labels (top 3).
  expect(cpuSide.labels, 'default labels on both backends').toEqual(gpu.labels);
  expect(cpuSide.predictions.map((p) => p.label)).toEqual(gpu.predictions.map((p) => p.label));
  for (const [i, p] of gpu.predictions.entries()) {
    expect(Math.abs(p.prob - (cpuSide.predictions[i]?.prob ?? NaN)), `prob of class ${p.label}`).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(p.logit - (cpuSide.predictions[i]?.logit ?? NaN)), `logit of class ${p.label}`).toBeLessThanOrEqual(TOLERANCE);
  }

  expect(cpuSide.maps.map(mapKey).sort()).toEqual(gpu.maps.map(mapKey).sort());
  const diffs: string[] = [];
  for (const gpuMap of gpu.maps) {
    const wasmMap = cpuSide.maps.find((m) => mapKey(m) === mapKey(gpuMap));
    expect(wasmMap, `wasm has ${mapKey(gpuMap)}`).toBeDefined();
    if (!wasmMap) continue;
    const diff = maxAbsDiff(gpuMap.normalized, wasmMap.normalized);
    diffs.push(`${mapKey(gpuMap)}: ${diff.toExponential(2)}`);
    expect(diff, `max |webgpu - wasm| of normalised ${mapKey(gpuMap)}`).toBeLessThanOrEqual(TOLERANCE);
    const scale = Math.max(1e-6, Math.abs(wasmMap.rawMax));
    expect(Math.abs(gpuMap.rawMax - wasmMap.rawMax) / scale, `relative rawMax difference of ${mapKey(gpuMap)}`).toBeLessThanOrEqual(
      TOLERANCE,
    );
  }
  testInfo.annotations.push({ type: 'max-abs-diff', description: diffs.join('; ') });
});

test('tiny model from files; Grad-CAM equals CAM for its GAP -> Dense head; backend switch keeps the model', async ({
  page,
  baseURL,
}, testInfo) => {
  // Start on wasm with the tiny model from its URL (quick), then load it again from files.
  await openStudio(page, { backend: 'wasm', model: tinyModelUrl(baseURL) });
  await waitForModel(page, TINY_MODEL_NAME);
  const firstLoadId = (await getState(page)).model?.['loadId'];

  await page.getByTestId('model-files-input').setInputFiles(TINY_MODEL_FILES);
  const reloaded = await waitForState(
    page,
    (s) => s.model !== null && s.model['loadId'] !== firstLoadId,
    'the model loaded from files (a new loadId)',
  );
  await waitForModel(page, TINY_MODEL_NAME);
  expect(reloaded.model?.name).toBe(TINY_MODEL_NAME);
  expect(reloaded.model?.targetLayer, 'targetLayer from metadata.json').toBe('target_relu');

  await page.getByTestId('image-input').setInputFiles(SMALL_PNG);
  const state = await waitForResults(page, 2);
  await screenshot(page, testInfo, 'files-results');
  for (const p of state.predictions) expect(p.name, `name of class ${p.label} from metadata.json`).toBe(TINY_LABEL_NAMES[p.label]);

  // For a GAP -> Dense head, Grad-CAM's weights are the Dense weights / (h*w): after ReLU and min-max
  // normalisation the two maps are the same.
  for (const label of state.labels) {
    const cam = state.maps.find((m) => m.method === 'cam' && m.label === label);
    const grad = state.maps.find((m) => m.method === 'gradcam' && m.label === label);
    expect(cam, `cam map for ${label}`).toBeDefined();
    expect(grad, `gradcam map for ${label}`).toBeDefined();
    if (cam && grad)
      expect(maxAbsDiff(cam.normalized, grad.normalized), `|cam - gradcam| for label ${label}`).toBeLessThanOrEqual(TOLERANCE);
  }

  // Switch the backend at run time: the model stays, and analysing again works on the new backend.
  await page.getByTestId('backend-select').selectOption('cpu');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'cpu', { timeout: 60_000 });
  await waitForModel(page, TINY_MODEL_NAME);
  await waitForState(page, (s) => s.backend?.backend === 'cpu' && s.model?.name === TINY_MODEL_NAME, 'cpu backend with the tiny model');
  // The snapshot's jobId (when it has one) tells a new result from the one computed on wasm.
  const wasmJob = (await getState(page))['jobId'];
  await page.getByTestId('image-input').setInputFiles(SMALL_PNG);
  const onCpu = await waitForState(
    page,
    (s) =>
      s.backend?.backend === 'cpu' &&
      s.maps.length === state.maps.length &&
      (wasmJob === undefined || wasmJob === null || s['jobId'] !== wasmJob),
    'results again after switching to cpu',
  );
  await expect(page.getByTestId('results')).toHaveAttribute('data-state', 'done');
  for (const map of onCpu.maps) {
    const before = state.maps.find((m) => mapKey(m) === mapKey(map));
    if (before) expect(maxAbsDiff(map.normalized, before.normalized), `cpu vs wasm ${mapKey(map)}`).toBeLessThanOrEqual(TOLERANCE);
  }
  await screenshot(page, testInfo, 'cpu-results');
});
