/**
 * Faults (issue #7): the engine worker dies; the studio notices, starts a fresh worker, loads the model and
 * the image again and redoes the analysis, with a notice, and stays usable. A folder evaluation goes on
 * through a crash and through a reload of the page (its journal in IndexedDB).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { getState, openStudio, waitForModel, waitForResults, waitForState } from './helpers';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples', 'shapes');
const INDEX = JSON.parse(readFileSync(join(SAMPLES, 'index.json'), 'utf8')) as Array<{ file: string; labels: string[] }>;

test('a crashed engine worker is restarted: backend, model and image reloaded, analysis redone, a notice shown, still usable', async ({
  page,
}) => {
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[1]!.file));
  const before = await waitForResults(page, 1);

  type Handle = { __camStudio: { simulateEngineCrash(): void; store: { getState(): { result: unknown } } }; __before?: unknown };
  await page.evaluate(() => {
    const w = window as unknown as Handle;
    w.__before = w.__camStudio.store.getState().result;
    w.__camStudio.simulateEngineCrash();
  });
  await expect(page.getByText(/The engine was restarted/).first()).toBeVisible();
  const after = await waitForState(
    page,
    (s) => s.model !== null && s.maps.length > 0 && (s['status'] as { analysis: string }).analysis === 'done' && s.backend !== null,
    'the analysis redone after the restart',
  );
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          const w = window as unknown as Handle;
          return w.__camStudio.store.getState().result !== w.__before;
        }),
      { message: 'a new result from the new worker' },
    )
    .toBe(true);
  expect(after.backend?.backend).toBe('wasm');
  expect(after.predictions.map((p) => p.label)).toEqual(before.predictions.map((p) => p.label));
  expect(after.lastError).toBeNull();

  // The new worker really works: another method is computed.
  await page.evaluate(async () => {
    const { store } = (window as unknown as { __camStudio: { store: { getState(): { setMethods(m: string[]): Promise<void> } } } })
      .__camStudio;
    await store.getState().setMethods(['gradcam', 'minmax-cam']);
  });
  await waitForState(page, (s) => s.maps.some((m) => m.method === 'minmax-cam'), 'MinMax-CAM after the restart');
  const memory = await page.evaluate(() =>
    (window as unknown as { __camStudio: { engineMemory(): Promise<{ numTensors: number }> } }).__camStudio.engineMemory(),
  );
  expect(memory.numTensors).toBeGreaterThan(0);
  expect((await getState(page)).model?.name).toContain('Shapes ResNet');
});

test('a folder evaluation goes on through an engine crash (the image under it is redone) and survives a reload (IndexedDB journal): resumed, nothing evaluated twice', async ({
  page,
}) => {
  // Slow enough to stop half-way: Score-CAM over every channel, 4 masked images per forward pass at most.
  const slowScoreCam = () =>
    page.evaluate(async () => {
      type Store = { getState(): { setMethods(m: string[]): Promise<void>; setMethodOptions(p: unknown): Promise<void> } };
      const { store } = (window as unknown as { __camStudio: { store: Store } }).__camStudio;
      await store.getState().setMethods(['cam', 'scorecam']);
      await store.getState().setMethodOptions({ scorecam: { batchSize: 4, maxChannels: null } });
    });
  const batch = async () =>
    (await getState(page))['batch'] as {
      status: string;
      total: number;
      next: number;
      records: number;
      failures: number;
      recordNames: string[];
      failureMessages: string[];
      interrupted: { done: number; total: number } | null;
    };
  const files = INDEX.map((entry) => join(SAMPLES, entry.file));

  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  await slowScoreCam();
  await page.getByTestId('batch-files-input').setInputFiles(files);
  await expect.poll(async () => (await batch()).records, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  await page.evaluate(() => (window as unknown as { __camStudio: { simulateEngineCrash(): void } }).__camStudio.simulateEngineCrash());
  await expect(page.getByText(/The engine was restarted/).first()).toBeVisible();
  await expect
    .poll(async () => (await batch()).records, { timeout: 120_000, message: 'the batch goes on after the restart' })
    .toBeGreaterThanOrEqual(5);
  const atReload = await batch();
  expect(atReload.status, 'still running when the tab goes away').toBe('running');
  expect(atReload.failureMessages, 'the crash cost no image').toEqual([]);
  await page.reload();

  await waitForModel(page, 'Shapes ResNet');
  await expect(page.getByTestId('batch-interrupted')).toBeVisible();
  const offered = await batch();
  expect(offered.interrupted?.total).toBe(files.length);
  expect(offered.interrupted!.done).toBeGreaterThanOrEqual(atReload.records);
  const doneBefore = offered.interrupted!.done;
  await page.getByTestId('batch-interrupted-resume').click();
  await expect.poll(async () => (await batch()).status, { timeout: 180_000 }).toBe('done');
  const finished = await batch();
  expect(finished.failures).toBe(0);
  expect(finished.records).toBe(files.length);
  expect(new Set(finished.recordNames).size, 'every image once').toBe(files.length);
  expect(finished.recordNames).toEqual(INDEX.map((entry) => entry.file).sort((a, b) => a.localeCompare(b)));
  expect(doneBefore).toBeLessThan(files.length);
  await expect(page.getByTestId('batch-report')).toBeVisible();
  // Finished: nothing is offered after another reload.
  await page.reload();
  await waitForModel(page, 'Shapes ResNet');
  await page.waitForTimeout(500);
  expect((await batch()).interrupted).toBeNull();
});

test('WebGPU device lost: the engine restarts on WebGPU with the model, image and analysis; lost again, it falls back to wasm and says so', async ({
  page,
}) => {
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'webgpu' });
  await waitForModel(page, 'Shapes ResNet');
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[2]!.file));
  const before = await waitForResults(page, 1);
  expect(before.backend?.backend, 'the test starts on WebGPU (SwiftShader here)').toBe('webgpu');

  type Handle = { __camStudio: { simulateDeviceLoss(): Promise<void>; store: { getState(): { result: unknown } } }; __before?: unknown };
  const loseDevice = () =>
    page.evaluate(async () => {
      const w = window as unknown as Handle;
      w.__before = w.__camStudio.store.getState().result;
      await w.__camStudio.simulateDeviceLoss();
    });
  const newResult = () =>
    expect
      .poll(
        () =>
          page.evaluate(() => {
            const w = window as unknown as Handle;
            return w.__camStudio.store.getState().result !== w.__before;
          }),
        { message: 'a new result from the new worker', timeout: 120_000 },
      )
      .toBe(true);

  await loseDevice();
  await expect(page.getByText(/The GPU device was lost .*The engine was restarted/).first()).toBeVisible();
  await newResult();
  const once = await waitForState(
    page,
    (s) => s.backend !== null && s.maps.length > 0 && (s['status'] as { analysis: string }).analysis === 'done',
    'the analysis redone after the first loss',
  );
  expect(once.backend?.backend, 'one loss: WebGPU again').toBe('webgpu');
  expect(once.predictions.map((p) => p.label)).toEqual(before.predictions.map((p) => p.label));
  expect(once.lastError).toBeNull();

  await loseDevice();
  await expect(page.getByText(/WebGPU lost its device 2 times in ten minutes, so the engine was restarted on wasm/)).toBeVisible();
  await newResult();
  const twice = await waitForState(
    page,
    (s) => s.backend !== null && s.maps.length > 0 && (s['status'] as { analysis: string }).analysis === 'done',
    'the analysis redone on wasm',
  );
  expect(twice.backend?.backend, 'two losses: wasm').toBe('wasm');
  expect(twice.predictions.map((p) => p.label)).toEqual(before.predictions.map((p) => p.label));
  expect(twice.lastError).toBeNull();
});
