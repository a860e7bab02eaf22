/**
 * ONNX models in the studio (issue #15): an .onnx file exported from PyTorch and dropped on the page is
 * explained on wasm and on WebGPU (the backend that ran asserted, the maps of the two within 1e-3); a single
 * dropped file gets the setup panel (preprocessing guess, a labels file); a folder with metadata.json and an
 * external data file loads as one model; a URL to an .onnx loads; broken or unusable ONNX files get a message
 * naming the cause while the model and results on screen stay. Fixtures: scripts/onnx/make-fixtures.py.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import {
  FIXTURES,
  SERVED_FIXTURES_PATH,
  TINY_MODEL_NAME,
  canvasStats,
  dropFiles,
  expectCanvasNotBlank,
  expectNewError,
  expectWellFormedMaps,
  getState,
  mapKey,
  maxAbsDiff,
  openStudio,
  screenshot,
  served,
  testDirectory,
  tinyModelUrl,
  waitForModel,
  waitForResults,
  waitForState,
  type StateSnapshot,
} from './helpers';

const ONNX = join(FIXTURES, 'onnx');
const RESNEST_FILE = join(ONNX, 'small-resnest', 'model.onnx');
const SMALL_PNG = join(FIXTURES, 'small.png');
const CLASS_NAMES = ['tench', 'goldfish', 'shark', 'ray', 'cock', 'hen', 'ostrich', 'finch', 'junco', 'bunting'];
const TOLERANCE = 1e-3;

/** The snapshot once a model other than `previousLoadId` is ready. */
async function waitForNewModel(page: Page, previousLoadId: unknown, what: string): Promise<StateSnapshot> {
  return waitForState(page, (s) => s.model !== null && s.model['loadId'] !== previousLoadId, what, 60_000);
}

test('an .onnx file dropped on the studio is explained on wasm and on webgpu, with the same maps', async ({ page, baseURL }, testInfo) => {
  const results = new Map<string, StateSnapshot>();
  for (const backend of ['wasm', 'webgpu'] as const) {
    await openStudio(page, { backend, model: tinyModelUrl(baseURL) });
    await waitForModel(page, TINY_MODEL_NAME);
    const before = await getState(page);
    await dropFiles(page, [RESNEST_FILE]);
    const loaded = await waitForNewModel(page, before.model?.['loadId'], `the dropped .onnx loaded on ${backend}`);
    await waitForModel(page, 'model');
    expect(loaded.backend?.backend, `getState().backend.backend with ?backend=${backend} (the backend that really runs)`).toBe(backend);
    await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', backend);
    expect(loaded.model?.['format']).toBe('onnx');
    expect(loaded.model?.name, 'named after the file').toBe('model');
    expect(loaded.model?.inputShape).toEqual([64, 64, 3]);
    expect(loaded.model?.numClasses).toBe(10);
    expect(loaded.model?.['headKind'], 'GlobalAveragePool -> Flatten -> Gemm is the CAM head').toBe('gap-dense');
    await expect(page.getByTestId('model-format')).toHaveText('ONNX');

    // A single file: the studio asks how inputs are prepared (torch's ImageNet normalisation suggested) and what the classes are called.
    const setup = page.getByTestId('model-setup');
    await expect(setup).toBeVisible();
    await expect(setup).toContainText('came without a metadata.json or a labels file');
    await expect(page.getByTestId('setup-preprocessing-select')).toHaveValue('torch');
    expect(loaded.model?.['preprocessingSource']).toBe('default');
    await expect(page.getByTestId('setup-imagenet-labels'), 'ImageNet names are offered for 1000 classes only').toHaveCount(0);
    if (backend === 'wasm') {
      const labels = join(testDirectory('labels'), 'classes.txt');
      writeFileSync(labels, `${CLASS_NAMES.join('\n')}\n`);
      const chooser = page.waitForEvent('filechooser');
      await page.getByTestId('setup-labels-file').click();
      await (await chooser).setFiles(labels);
      await expect(setup.getByRole('status')).toContainText('Class names from classes.txt');
      const named = await waitForState(
        page,
        (s) => (s.model?.['labelNames'] as string[] | undefined)?.[3] === 'ray',
        'the class names applied',
      );
      expect(named.model?.['labelsSource']).toBe('your labels');
      await page.getByTestId('setup-preprocessing-select').selectOption('unit');
      await waitForState(page, (s) => s.model?.['preprocessing'] === 'unit', 'the preprocessing chosen in the setup panel');
      await page.getByTestId('setup-preprocessing-select').selectOption('torch');
      await waitForState(page, (s) => s.model?.['preprocessing'] === 'torch', 'back to torch');
      await page.getByTestId('setup-done').click();
      await expect(setup, 'Done closes the panel').toHaveCount(0);
    }

    await page.getByTestId('image-input').setInputFiles(SMALL_PNG);
    const state = await waitForResults(page, 2);
    await screenshot(page, testInfo, `onnx-${backend}`);
    expect(state.backend?.backend, 'the analysis ran on the requested backend').toBe(backend);
    expectWellFormedMaps(state);
    for (const map of state.maps.filter((m) => m.method === 'cam' || m.method === 'gradcam'))
      expect(map.shape, `${mapKey(map)} at the last block's 8 x 8`).toEqual([8, 8]);
    if (backend === 'wasm') for (const p of state.predictions) expect(p.name).toBe(CLASS_NAMES[p.label]);
    const canvases = page.getByTestId('heatmap');
    await expect(canvases).toHaveCount(state.maps.length);
    for (let i = 0; i < state.maps.length; i++)
      if ((state.maps[i]?.rawMax ?? 0) > 0) expectCanvasNotBlank(await canvasStats(canvases.nth(i)), `${backend} heatmap ${i}`);
    results.set(backend, state);
  }

  const [wasm, webgpu] = [results.get('wasm')!, results.get('webgpu')!];
  expect(webgpu.predictions.map((p) => p.label)).toEqual(wasm.predictions.map((p) => p.label));
  for (const [i, p] of webgpu.predictions.entries())
    expect(Math.abs(p.logit - (wasm.predictions[i]?.logit ?? NaN)), `logit of class ${p.label}`).toBeLessThanOrEqual(TOLERANCE);
  expect(webgpu.maps.map(mapKey).sort()).toEqual(wasm.maps.map(mapKey).sort());
  const diffs: string[] = [];
  for (const map of webgpu.maps) {
    const other = wasm.maps.find((m) => mapKey(m) === mapKey(map))!;
    const diff = maxAbsDiff(map.normalized, other.normalized);
    diffs.push(`${mapKey(map)}: ${diff.toExponential(2)}`);
    expect(diff, `max |webgpu - wasm| of normalised ${mapKey(map)}`).toBeLessThanOrEqual(TOLERANCE);
  }
  testInfo.annotations.push({ type: 'max-abs-diff', description: diffs.join('; ') });
});

test('broken or unusable .onnx files get a message naming the cause and the model on screen stays; a folder with external data and a URL load', async ({
  page,
  baseURL,
}, testInfo) => {
  await openStudio(page, { backend: 'wasm', model: tinyModelUrl(baseURL) });
  await waitForModel(page, TINY_MODEL_NAME);
  await page.getByTestId('image-input').setInputFiles(SMALL_PNG);
  const before = await waitForResults(page, 2);

  const truncated = join(testDirectory('broken'), 'resnest.onnx');
  const whole = readFileSync(RESNEST_FILE);
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 3)));
  const cases: Array<{ what: string; act: () => Promise<void>; message: RegExp }> = [
    { what: 'a truncated .onnx', act: () => dropFiles(page, [truncated]), message: /not an ONNX model/ },
    {
      what: 'an unsupported operator',
      act: () => dropFiles(page, [join(ONNX, 'bad', 'unsupported-op.onnx')]),
      message: /operators the studio does not support: GridSample \(node "\/stn\/GridSample"\)/,
    },
    {
      what: 'weights in an external data file that was not given',
      act: () => dropFiles(page, [join(ONNX, 'external', 'model.onnx')]),
      message: /external data file \(model\.onnx\.data\), which was not given/,
    },
    { what: 'two inputs', act: () => dropFiles(page, [join(ONNX, 'bad', 'two-inputs.onnx')]), message: /2 inputs \("image", "mask"\)/ },
    {
      what: 'a vector input',
      act: () => dropFiles(page, [join(ONNX, 'bad', 'vector-input.onnx')]),
      message: /input "features" has shape \[\?, 8\]; the studio needs a float32 image input/,
    },
    {
      what: 'opset 19, by URL',
      act: async () => {
        await page.getByTestId('model-url-input').fill(served(`${SERVED_FIXTURES_PATH}/onnx/bad/opset-19.onnx`, baseURL));
        await page.getByTestId('model-url-load').click();
      },
      message: /opset 19; the studio supports opsets 6 to 18/,
    },
  ];
  for (const { what, act, message } of cases) {
    const shown = await expectNewError(page, act, what);
    expect(shown, what).toMatch(message);
    await waitForModel(page, TINY_MODEL_NAME);
    const after = await getState(page);
    expect(after.model?.['loadId'], `${what}: the model stays, not even reloaded`).toBe(before.model?.['loadId']);
    expect(after.maps.map(mapKey), `${what}: the heatmaps stay`).toEqual(before.maps.map(mapKey));
    expect(after.predictions, `${what}: the predictions stay`).toEqual(before.predictions);
  }
  await screenshot(page, testInfo, 'onnx-refused');
  await expect(page.getByTestId('heatmap').first()).toBeVisible();

  // The whole folder: model.onnx, its model.onnx.data and metadata.json, dropped together.
  const folder = join(ONNX, 'external');
  await dropFiles(
    page,
    ['model.onnx', 'model.onnx.data', 'metadata.json'].map((file) => join(folder, file)),
  );
  await waitForModel(page, 'external-data (test fixture)');
  const external = await getState(page);
  expect(external.model?.['format']).toBe('onnx');
  expect(external.model?.['preprocessingSource'], 'from metadata.json').toBe('metadata');
  await expect(page.getByTestId('model-setup'), 'no labels came with it: the setup panel asks for them').toBeVisible();
  await expect(page.getByTestId('setup-preprocessing-select'), 'the preprocessing came in metadata.json').toHaveCount(0);

  // By URL, with metadata.json beside it on the server.
  await page.getByTestId('model-url-input').fill(served(`${SERVED_FIXTURES_PATH}/onnx/tiny-resnext/model.onnx`, baseURL));
  await page.getByTestId('model-url-load').click();
  await waitForModel(page, 'tiny-resnext (test fixture)');
  await page.getByTestId('image-input').setInputFiles(SMALL_PNG);
  const resnext = await waitForResults(page, 2);
  expect(resnext.model?.inputShape).toEqual([48, 48, 3]);
  expect(resnext.maps.find((m) => m.method === 'cam')?.shape).toEqual([6, 6]);
});
