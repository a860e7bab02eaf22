/**
 * Bad models (issue #7): every kind the issue names gets a message saying what is wrong, and the model and
 * results already on screen stay. The fixtures are made by scripts/make-tiny-model.mjs and served under
 * /models/__e2e__/bad-models/; see e2e/errors.spec.ts for the JSON, missing-shard and vector-input cases.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import {
  SERVED_FIXTURES_PATH,
  expectNewError,
  getState,
  openStudio,
  screenshot,
  served,
  waitForModel,
  waitForResults,
  type StateSnapshot,
} from './helpers';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples', 'shapes');
const INDEX = JSON.parse(readFileSync(join(SAMPLES, 'index.json'), 'utf8')) as Array<{ file: string; labels: string[] }>;
const SHAPES_NAME = 'Shapes ResNet';

async function loadUrl(page: Page, url: string): Promise<void> {
  await page.getByTestId('model-url-input').fill(url);
  await page.getByTestId('model-url-load').click();
}

/** The model, its predictions and its heatmaps are what they were. */
async function expectUnchanged(page: Page, before: StateSnapshot, what: string): Promise<void> {
  await waitForModel(page, before.model!.name);
  const after = await getState(page);
  expect(after.model?.name, `${what}: the model stays`).toBe(before.model?.name);
  expect(after.model?.loadId, `${what}: not even reloaded`).toBe(before.model?.loadId);
  expect(
    after.maps.map((m) => [m.method, m.label]),
    `${what}: the heatmaps stay`,
  ).toEqual(before.maps.map((m) => [m.method, m.label]));
  expect(after.predictions, `${what}: the predictions stay`).toEqual(before.predictions);
  await expect(page.getByTestId('heatmap').first(), `${what}: heatmaps still drawn`).toBeVisible();
}

test('bad models: wrong shard sizes, another architecture, no conv layer, several inputs or outputs, unknown layer class, 500 MiB on a 1 GiB device', async ({
  page,
  baseURL,
}, testInfo) => {
  // A machine that reports 1 GiB of memory (navigator.deviceMemory): the studio accepts models up to 256 MiB.
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 1, configurable: true }));
  const shardRequests: string[] = [];
  page.context().on('request', (request) => {
    if (/\/bad-models\/huge\/.*\.bin$/.test(request.url())) shardRequests.push(request.url());
  });
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, SHAPES_NAME);
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX.find((entry) => entry.labels.length >= 2)!.file));
  const before = await waitForResults(page, 2);

  const cases: Array<{ fixture: string; code: string; message: RegExp }> = [
    {
      fixture: 'truncated-shard',
      code: 'shard-size-mismatch',
      message: /weights\.bin hold \d+ bytes but model\.json describes \d+ bytes: a shard is truncated/,
    },
    { fixture: 'padded-shard', code: 'shard-size-mismatch', message: /hold \d+ bytes but model\.json describes \d+ bytes/ },
    {
      fixture: 'other-architecture',
      code: 'weights-mismatch',
      message: /another architecture.*conv1\/kernel is \[5, 5, 3, 12\] in the weight files, the layer needs \[3, 3, 3, 8\]/,
    },
    { fixture: 'no-conv', code: 'no-conv-layer', message: /no 4-D \(convolutional\) layer/ },
    { fixture: 'two-inputs', code: 'multiple-inputs', message: /2 inputs; the studio explains single-image classifiers/ },
    { fixture: 'two-outputs', code: 'multiple-outputs', message: /2 outputs; the studio needs a single class-score output/ },
    { fixture: 'dense-only', code: 'bad-input-rank', message: /input has shape \[null, 8\]; the studio needs an image input/ },
    { fixture: 'unknown-layer', code: 'unsupported-layer', message: /layer class "MyAttention2D", which TF\.js does not support/ },
    {
      fixture: 'huge',
      code: 'model-too-large',
      message: /500 MiB of weights; the studio accepts at most 256 MiB here \(a quarter of the 1 GiB of memory this device reports/,
    },
  ];
  for (const { fixture, code, message } of cases) {
    await page.evaluate(() =>
      (window as unknown as { __camStudio: { store: { getState(): { dismissError(): void } } } }).__camStudio.store
        .getState()
        .dismissError(),
    );
    const shown = await expectNewError(
      page,
      () => loadUrl(page, served(`${SERVED_FIXTURES_PATH}/bad-models/${fixture}/model.json`, baseURL)),
      fixture,
    );
    testInfo.annotations.push({ type: fixture, description: shown });
    expect(shown, fixture).toMatch(message);
    expect((await getState(page)).lastErrorCode, fixture).toBe(code);
    await expectUnchanged(page, before, fixture);
  }
  expect(shardRequests, 'the 500 MiB model is refused from its manifest: no shard is fetched').toEqual([]);
  await screenshot(page, testInfo, 'too-large');
});

test('a graph model whose chosen target node does not exist: a message naming the usable nodes; the model and its results stay', async ({
  page,
  baseURL,
}) => {
  await openStudio(page, { model: served(`${SERVED_FIXTURES_PATH}/tiny-graph/model.json`, baseURL), backend: 'wasm' });
  await waitForModel(page, 'tiny-graph');
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[0]!.file));
  const before = await waitForResults(page, 1);
  // The node select offers only usable nodes; a stale choice arrives otherwise (an old shared link, a script).
  const shown = await expectNewError(
    page,
    async () => {
      await page.evaluate(() =>
        (
          window as unknown as { __camStudio: { store: { getState(): { configureModel(o: { targetLayer: string }): Promise<void> } } } }
        ).__camStudio.store
          .getState()
          .configureModel({ targetLayer: 'block9/conv' }),
      );
    },
    'missing node',
  );
  expect(shown).toMatch(/The graph has no node named "block9\/conv"\. Usable target nodes: .*target/);
  await expectUnchanged(page, before, 'missing node');
  expect((await getState(page)).model?.targetLayer).toBe(before.model?.targetLayer);
});
