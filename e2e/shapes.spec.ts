/**
 * The project's own multi-label model (models/shapes-resnet, issue #4): it is in the model picker, its
 * scenes are in the gallery (picking one opens the model), it finds the scene's objects, and WebGPU gives
 * the same maps as wasm on it (SwiftShader on machines without a GPU).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import {
  expectWellFormedMaps,
  getState,
  mapKey,
  openStudio,
  screenshot,
  waitForModel,
  waitForResults,
  waitForState,
  type BackendName,
  tinyModelUrl,
  worstMapDifference,
  type StateSnapshot,
} from './helpers';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples', 'shapes');
const INDEX = JSON.parse(readFileSync(join(SAMPLES, 'index.json'), 'utf8')) as Array<{ file: string; labels: string[] }>;
/** A sample with two or more objects (the MinMax methods need a second detected label). */
const MULTI = INDEX.findIndex((entry) => entry.labels.length >= 2);
const PLAIN_URL = 'models/shapes-resnet/model.json';
const METHODS = ['cam', 'gradcam', 'minmax-cam', 'd-minmax-cam'];

async function chooseMethods(page: Page, ids: string[]): Promise<void> {
  await page.evaluate(async (methods) => {
    const { store } = (window as unknown as { __camStudio: { store: { getState(): { setMethods(m: string[]): Promise<void> } } } })
      .__camStudio;
    await store.getState().setMethods(methods);
  }, ids);
}

test('the shapes models are in the picker; a gallery scene opens the plain model and its objects are detected', async ({
  page,
  baseURL,
}, testInfo) => {
  // Start on the tiny fixture model, not a shapes model, so that picking a scene has to switch models (and the
  // ResNet50 is not loaded).
  await openStudio(page, { model: tinyModelUrl(baseURL), backend: 'wasm' });
  await waitForModel(page, 'Tiny CNN');
  const options = await page.getByTestId('model-select').locator('option').allTextContents();
  expect(
    options.some((text) => /Shapes ResNet/.test(text) && !/KUR/.test(text)),
    `picker options: ${options.join(' | ')}`,
  ).toBe(true);
  expect(options.some((text) => /KUR/.test(text))).toBe(true);

  await page.getByTestId('shape-samples').locator('summary').click();
  const scene = INDEX[MULTI]!;
  await page.getByTestId(`sample-shapes-${scene.file}`).click();
  await waitForState(
    page,
    (s) => typeof s.model?.['source'] === 'string' && (s.model['source'] as string).endsWith(PLAIN_URL),
    'the plain shapes model loaded by the gallery',
  );
  const state = await waitForResults(page, 1);
  await screenshot(page, testInfo, 'shapes-scene');
  expect(state.model?.inputShape?.[2]).toBe(3);
  // The default labels are the detected set (sigmoid > 0.5); on this scene it is the ground truth.
  const detectedNames = state.labels.map((label) => state.predictions.find((p) => p.label === label)?.name ?? String(label)).sort();
  expect(detectedNames, `detected on ${scene.file}`).toEqual([...scene.labels].sort());
});

async function analyseScene(page: Page, testInfo: TestInfo, backend: BackendName): Promise<StateSnapshot> {
  await openStudio(page, { backend, model: PLAIN_URL });
  await waitForModel(page, 'Shapes ResNet');
  const loaded = await getState(page);
  expect(loaded.backend?.backend, `the backend that really runs with ?backend=${backend}`).toBe(backend);
  await chooseMethods(page, METHODS);
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[MULTI]!.file));
  await waitForResults(page, 1);
  const state = await waitForState(
    page,
    (s) => new Set(s.maps.map((m) => m.method)).size === METHODS.length && s.labels.length >= 2,
    'maps of the four methods for two or more labels',
  );
  await expect(page.getByTestId('results')).toHaveAttribute('data-state', 'done');
  await screenshot(page, testInfo, `shapes-${backend}`);
  expectWellFormedMaps(state);
  return state;
}

test('WebGPU runs the shapes model and its CAM and MinMax maps match wasm within 1e-3', async ({ page }, testInfo) => {
  const gpu = await analyseScene(page, testInfo, 'webgpu');
  const cpuSide = await analyseScene(page, testInfo, 'wasm');
  expect(cpuSide.labels).toEqual(gpu.labels);
  for (const [i, p] of gpu.predictions.entries()) {
    expect(Math.abs(p.prob - (cpuSide.predictions[i]?.prob ?? Number.NaN)), `prob of class ${p.label}`).toBeLessThanOrEqual(1e-4);
  }
  expect(cpuSide.maps.map(mapKey).sort()).toEqual(gpu.maps.map(mapKey).sort());
  const worst = worstMapDifference(gpu, cpuSide, 'wasm');
  testInfo.annotations.push({ type: 'max |webgpu - wasm|', description: worst.toExponential(2) });
  expect(worst).toBeLessThanOrEqual(1e-3);
});

const RESNEST_URL = 'models/shapes-resnest/model.json';
const RESNEST_ONNX_URL = 'models/shapes-resnest-onnx/model.onnx';

async function analyseWith(page: Page, model: string, name: string): Promise<StateSnapshot> {
  await openStudio(page, { backend: 'wasm', model });
  await waitForModel(page, name);
  await chooseMethods(page, ['cam', 'gradcam', 'minmax-cam']);
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[MULTI]!.file));
  await waitForResults(page, 1);
  return waitForState(
    page,
    (s) => new Set(s.maps.map((m) => m.method)).size === 3 && s.labels.length >= 2,
    `maps of three methods for two or more labels with ${model}`,
  );
}

test('the Shapes ResNeSt (split attention) as TF.js layers and as ONNX: in the picker, the same detections and maps; the gallery keeps it', async ({
  page,
}, testInfo) => {
  const layers = await analyseWith(page, RESNEST_URL, 'ResNeSt');
  await screenshot(page, testInfo, 'shapes-resnest');
  expect(layers.backend?.backend).toBe('wasm');
  const options = await page.getByTestId('model-select').locator('option').allTextContents();
  expect(options.filter((text) => /Shapes ResNeSt/.test(text)).length, `picker options: ${options.join(' | ')}`).toBe(2);
  const detected = layers.labels.map((label) => layers.predictions.find((p) => p.label === label)?.name).sort();
  expect(detected).toEqual([...INDEX[MULTI]!.labels].sort());
  expectWellFormedMaps(layers);
  // A gallery scene keeps the loaded shapes model (it does not switch to the Shapes ResNet).
  await page.getByTestId('shape-samples').locator('summary').click();
  await page.getByTestId(`sample-shapes-${INDEX[(MULTI + 1) % INDEX.length]!.file}`).click();
  await waitForResults(page, 1);
  expect(((await getState(page)).model?.['source'] as string).endsWith(RESNEST_URL)).toBe(true);

  const onnx = await analyseWith(page, RESNEST_ONNX_URL, 'ResNeSt');
  expect(onnx.model?.['format']).toBe('onnx');
  expect(onnx.labels).toEqual(layers.labels);
  for (const [i, p] of layers.predictions.entries())
    expect(Math.abs(p.prob - (onnx.predictions[i]?.prob ?? Number.NaN)), `prob of class ${p.label}`).toBeLessThanOrEqual(1e-4);
  const worst = worstMapDifference(layers, onnx, 'ONNX');
  testInfo.annotations.push({ type: 'max |layers - onnx|', description: worst.toExponential(2) });
  expect(worst).toBeLessThanOrEqual(1e-3);
});

test('faithfulness metrics of a shapes scene: computed in the worker, shown as a table, numbers in range', async ({ page }, testInfo) => {
  await openStudio(page, { backend: 'wasm', model: PLAIN_URL });
  await waitForModel(page, 'Shapes ResNet');
  await chooseMethods(page, ['cam', 'minmax-cam']);
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[MULTI]!.file));
  await waitForResults(page, 1);
  await expect(page.getByTestId('results')).toHaveAttribute('data-state', 'done');
  await page.getByTestId('metrics-compute').click();
  await expect(page.getByTestId('metrics')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('metrics-table').locator('tbody tr')).toHaveCount(9);
  await screenshot(page, testInfo, 'shapes-metrics');
  const state = await getState(page);
  const metrics = state['metrics'] as {
    backend: string;
    detected: number[];
    scores: Record<string, Record<string, Record<string, number | null>>>;
    curves: Record<string, Record<string, { deletionAuc: number; insertionAuc: number }>>;
    stale: boolean;
  };
  expect(metrics.backend).toBe('wasm');
  expect(metrics.stale).toBe(false);
  expect(metrics.detected.length).toBeGreaterThanOrEqual(2);
  for (const method of ['cam', 'minmax-cam']) {
    expect(Object.keys(metrics.scores[method]!).map(Number).sort()).toEqual([...metrics.detected].sort());
    for (const scores of Object.values(metrics.scores[method]!)) {
      for (const [name, value] of Object.entries(scores)) {
        expect(value, `${method} ${name}`).not.toBeNull(); // two or more detections: every metric exists
        expect(value as number).toBeGreaterThanOrEqual(0);
        expect(value as number).toBeLessThanOrEqual(1);
      }
    }
    for (const curve of Object.values(metrics.curves[method]!)) {
      expect(curve.deletionAuc).toBeGreaterThanOrEqual(0);
      expect(curve.insertionAuc).toBeLessThanOrEqual(1);
    }
  }
  // d3 charts: 7 percentage metrics x 2 methods bars; one small multiple of curves per detected label.
  await expect(page.getByTestId('metrics-bars').locator('rect[data-method]')).toHaveCount(14);
  await expect(page.getByTestId('metrics-curves').locator('g[data-method] path')).toHaveCount(4 * metrics.detected.length);
  // Hovering a bar highlights that method's heatmaps.
  await page.getByTestId('metrics-bars').locator('rect[data-method="minmax-cam"]:not([height="0"])').first().hover(); // a metric at 0 draws no bar to hover
  await expect(page.locator('[data-testid="heatmap-cell"][data-method="minmax-cam"][data-highlighted="true"]')).toHaveCount(
    metrics.detected.length,
  );
  await expect(page.locator('[data-testid="heatmap-cell"][data-method="cam"][data-highlighted="true"]')).toHaveCount(0);
  // Exports: an SVG document, and a PNG at twice the chart's size.
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('metrics-bars-svg').click()]);
  const svgText = readFileSync(await svgDownload.path(), 'utf8');
  expect(svgText.startsWith('<svg')).toBe(true);
  expect(svgText).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect((svgText.match(/<rect[^>]*data-method/g) ?? []).length).toBe(14);
  const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('metrics-bars-png').click()]);
  const png = readFileSync(await pngDownload.path());
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 520]);
  // A new image makes the numbers stale (they stay visible, flagged).
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[(MULTI + 1) % INDEX.length]!.file));
  await expect(page.getByTestId('metrics-stale')).toBeVisible();
});

test('folder evaluation: sample scenes with their masks give the Table-2 report with localisation rows; cancel keeps partial results', async ({
  page,
}) => {
  await openStudio(page, { backend: 'wasm', model: PLAIN_URL });
  await waitForModel(page, 'Shapes ResNet');
  await chooseMethods(page, ['cam', 'minmax-cam']);
  const six = INDEX.slice(0, 6).flatMap((entry) => [join(SAMPLES, entry.file), join(SAMPLES, entry.file.replace('.png', '.mask.png'))]);
  await page.getByTestId('batch-files-input').setInputFiles(six);
  await expect(page.getByTestId('batch')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('batch-count')).toContainText('6 / 6 images');
  const rows = page.getByTestId('batch-report').locator('tbody tr');
  await expect(rows).toHaveCount(9); // 7 faithfulness metrics + pointing game + mIoU (the masks were paired)
  const miou = Number(await rows.nth(8).locator('td').first().textContent());
  expect(miou).toBeGreaterThan(0);
  expect(miou).toBeLessThanOrEqual(100);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('batch-export-csv').click()]);
  const lines = readFileSync(await csv.path(), 'utf8')
    .trim()
    .split('\n');
  expect(lines[0]).toBe('metric,better,cam,minmax-cam,support');
  expect(lines).toHaveLength(10);
  await expect(page.getByTestId('batch').getByTestId('metrics-bars').locator('rect[data-method]')).toHaveCount(14);
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('batch-export-json').click()]);
  const exported = JSON.parse(readFileSync(await json.path(), 'utf8')) as {
    version: number;
    model: { labelNames: string[] };
    settings: { methods: string[] };
    images: unknown[];
    report: { images: number };
  };
  expect(exported.version).toBe(1);
  expect(exported.model.labelNames).toHaveLength(8);
  expect(exported.settings.methods).toEqual(['cam', 'minmax-cam']);
  expect(exported.images).toHaveLength(6);
  expect(exported.report.images).toBe(6);
  const done = await getState(page);
  expect(done['batch']).toMatchObject({ status: 'done', total: 6, next: 6, records: 6, failures: 0 });
  // Per class: one row per class with detections, named from the model's labels, supports adding up.
  await page.getByTestId('batch-per-class').locator('summary').click();
  const classRows = page.getByTestId('batch-per-class-table').locator('tbody tr');
  expect(await classRows.count()).toBeGreaterThan(1);
  const classNames = await classRows.locator('th').allTextContents();
  for (const name of classNames) expect(['circle', 'square', 'triangle', 'star', 'ring', 'cross', 'heart', 'arrow']).toContain(name);
  const supports = (await classRows.locator('td:last-child').allTextContents()).map(Number);
  expect(supports.reduce((a, b) => a + b, 0)).toBe(Number(lines[3]!.split(',').at(-1))); // the %AR row's support

  // All 16 scenes, cancelled once the first ones are done: partial results stay, the studio stays usable.
  const all = INDEX.map((entry) => join(SAMPLES, entry.file));
  await page.getByTestId('batch-files-input').setInputFiles(all);
  await waitForState(page, (s) => (s['batch'] as { records: number }).records >= 2, 'two images evaluated');
  const before = Date.now();
  await page.getByTestId('batch-cancel').click();
  await expect(page.getByTestId('batch')).toHaveAttribute('data-state', 'cancelled');
  expect(Date.now() - before).toBeLessThan(1000);
  const cancelled = (await getState(page))['batch'] as { records: number; total: number };
  expect(cancelled.total).toBe(16);
  expect(cancelled.records).toBeGreaterThanOrEqual(2);
  expect(cancelled.records).toBeLessThan(16);
  await expect(page.getByTestId('batch-report')).toBeVisible();
  await expect(page.getByTestId('batch-choose-files')).toBeEnabled();
});
