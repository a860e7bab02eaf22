/**
 * Faults (issue #7): the engine worker dies; the studio notices, starts a fresh worker, loads the model and
 * the image again and redoes the analysis, with a notice, and stays usable.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { getState, openStudio, waitForModel, waitForResults, waitForState } from './helpers';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples', 'shapes');
const INDEX = JSON.parse(readFileSync(join(SAMPLES, 'index.json'), 'utf8')) as Array<{ file: string; labels: string[] }>;

test('a crashed engine worker is restarted: backend, model and image reloaded, analysis redone, a notice shown, still usable', async ({ page }) => {
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
  const after = await waitForState(page, (s) => s.model !== null && s.maps.length > 0 && (s['status'] as { analysis: string }).analysis === 'done' && s.backend !== null, 'the analysis redone after the restart');
  await expect.poll(() => page.evaluate(() => {
    const w = window as unknown as Handle;
    return w.__camStudio.store.getState().result !== w.__before;
  }), { message: 'a new result from the new worker' }).toBe(true);
  expect(after.backend?.backend).toBe('wasm');
  expect(after.predictions.map((p) => p.label)).toEqual(before.predictions.map((p) => p.label));
  expect(after.lastError).toBeNull();

  // The new worker really works: another method is computed.
  await page.evaluate(async () => {
    const { store } = (window as unknown as { __camStudio: { store: { getState(): { setMethods(m: string[]): Promise<void> } } } }).__camStudio;
    await store.getState().setMethods(['gradcam', 'minmax-cam']);
  });
  await waitForState(page, (s) => s.maps.some((m) => m.method === 'minmax-cam'), 'MinMax-CAM after the restart');
  const memory = await page.evaluate(() => (window as unknown as { __camStudio: { engineMemory(): Promise<{ numTensors: number }> } }).__camStudio.engineMemory());
  expect(memory.numTensors).toBeGreaterThan(0);
  expect((await getState(page)).model?.name).toContain('Shapes ResNet');
});
