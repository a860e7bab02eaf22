/**
 * The classroom walkthrough (issue #6): reachable from the first screen, driven entirely by the keyboard
 * (steps, label, method, contrast label), legible on a 1280x720 projector (the stage fits it), and live: the
 * numbers come from the current image and label.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openStudio, screenshot, waitForModel, waitForResults } from './helpers';

const SAMPLES = join(import.meta.dirname, '..', 'public', 'samples', 'shapes');
const INDEX = JSON.parse(readFileSync(join(SAMPLES, 'index.json'), 'utf8')) as Array<{ file: string; labels: string[] }>;
const MULTI = INDEX.find((entry) => entry.labels.length >= 2)!;

test.use({ viewport: { width: 1280, height: 720 } });

test('classroom walkthrough: keyboard steps through every step, switches label, method and contrast; fits 1280x720', async ({
  page,
}, testInfo) => {
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  await page.getByTestId('image-input').setInputFiles(join(SAMPLES, MULTI.file));
  await waitForResults(page, 1);

  await page.getByRole('tab', { name: 'Classroom' }).click();
  const stage = page.getByTestId('classroom');
  await expect(stage).toBeFocused();
  await expect(stage).toHaveAttribute('data-state', 'done');
  await expect(stage).toHaveAttribute('data-step', 'input');
  await expect(stage.getByRole('math').first()).toBeVisible(); // typeset formula (MathML)

  const steps = ['features', 'weights', 'sum', 'relu', 'upsample', 'overlay', 'gradcam', 'minmax'];
  for (const step of steps) {
    await page.keyboard.press('ArrowRight');
    await expect(stage).toHaveAttribute('data-step', step);
    if (step === 'sum') {
      await stage.scrollIntoViewIfNeeded();
      await screenshot(page, testInfo, 'classroom-sum', 'classroom');
    }
  }
  await expect(stage.locator('canvas')).toHaveCount(3); // CAM u, CAM v, MinMax-CAM u
  await page.keyboard.press('ArrowRight'); // past the last step: stays
  await expect(stage).toHaveAttribute('data-step', 'minmax');
  await page.keyboard.press('Home');
  await expect(stage).toHaveAttribute('data-step', 'input');
  await page.keyboard.press('ArrowLeft');
  await expect(stage).toHaveAttribute('data-step', 'input');

  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(stage).toHaveAttribute('data-step', 'sum');
  await expect(stage).toHaveAttribute('data-method', 'cam');
  const camFormula = await stage.locator('.formula').nth(1).getAttribute('aria-label');
  await page.keyboard.press('m');
  await expect(stage).toHaveAttribute('data-method', 'gradcam');
  await page.keyboard.press('m');
  await expect(stage).toHaveAttribute('data-method', 'minmax-cam');
  const minmaxFormula = await stage.locator('.formula').nth(1).getAttribute('aria-label');
  expect(minmaxFormula, 'the numbers change with the method').not.toBe(camFormula);

  const firstLabel = await stage.getAttribute('data-label');
  await page.keyboard.press('l');
  await expect(stage).not.toHaveAttribute('data-label', firstLabel ?? '');
  await expect(stage).toHaveAttribute('data-state', 'done');
  const contrastBefore = await stage.getByRole('button', { name: /Contrast label/ }).textContent();
  await page.keyboard.press('c');
  await expect(stage.getByRole('button', { name: /Contrast label/ })).not.toHaveText(contrastBefore ?? '');

  const box = await stage.boundingBox();
  expect(box, 'the stage is on screen').not.toBeNull();
  expect(box!.width).toBeLessThanOrEqual(1280);
  expect(box!.height, 'the whole stage fits a 720-px-high projector').toBeLessThanOrEqual(720);
  await stage.scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'classroom');
});
