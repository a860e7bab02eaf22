/**
 * Parameters out of the ordinary (issue #7): a threshold that selects no label says so and explains the top
 * prediction instead; a ground-truth label index out of range gets a message naming the valid range (in the
 * field as it is typed, and from the engine for a rule that arrives otherwise), and the earlier results stay.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { getState, openStudio, waitForModel, waitForResults, waitForState } from './helpers';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples', 'shapes');
const INDEX = JSON.parse(readFileSync(join(SAMPLES, 'index.json'), 'utf8')) as Array<{ file: string; labels: string[] }>;

test('a threshold that selects no label, and a label index out of range: clear messages, results kept', async ({ page }) => {
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, INDEX[1]!.file));
  await waitForResults(page, 1);

  const value = page.getByTestId('detection-value-input');
  await value.fill('1');
  await value.press('Enter');
  const empty = await waitForState(
    page,
    (s) => s.detected.length === 0 && s.maps.length > 0,
    'an empty detected set, with maps of the top prediction',
  );
  await expect(page.getByText('Empty: no label passes the rule. The top prediction is explained instead.')).toBeVisible();
  expect(empty.labels).toEqual([empty.predictions[0]!.label]);
  expect(empty.lastError).toBeNull();

  const before = await getState(page);
  await page.getByTestId('detection-rule-select').selectOption('ground-truth');
  await value.fill('2, 99');
  await value.press('Enter');
  // Checked as it is typed: the field says what is wrong and nothing is sent to the engine.
  await expect(page.getByRole('alert').filter({ hasText: 'Class 99 does not exist: this model has classes 0 to 7.' })).toBeVisible();
  await expect(value).toHaveAttribute('aria-invalid', 'true');
  const state = await getState(page);
  expect(state.lastError).toBeNull();
  expect(state.maps.length, 'the earlier heatmaps stay').toBe(before.maps.length);
  expect(state.labels).toEqual(before.labels);
  expect(state.model?.name).toContain('Shapes ResNet');
  // The engine itself refuses such a label too, with the same kind of message (a rule from a shared link).
  await page.evaluate(async () => {
    const { store } = (window as unknown as { __camStudio: { store: { getState(): { setDetection(rule: unknown): Promise<void> } } } })
      .__camStudio;
    await store.getState().setDetection({ kind: 'ground-truth', labels: [2, 99] });
  });
  const refused = await waitForState(page, (s) => s.lastError !== null, 'an engine error for label 99');
  expect(refused.lastError).toMatch(/Label 99 does not exist: this model has classes 0 to 7/);
  expect(refused.maps.length, 'the earlier heatmaps stay').toBe(before.maps.length);
});
