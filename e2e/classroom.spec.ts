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
    if (step === 'weights') {
      // The weight chart has axes: weight ticks (with 0) and channel ticks.
      await expect(stage.locator('.weight-bars-grid text').first()).toBeVisible();
      expect(await stage.locator('.weight-bars-grid text').allTextContents()).toEqual(expect.arrayContaining(['0']));
      await screenshot(page, testInfo, 'classroom-weights', 'classroom');
    }
    if (step === 'sum') {
      // The sum at the brightest cell in three aligned rows (symbols, numbers, total), no stretchy braces.
      const written = stage.locator('.formula').nth(1);
      await expect(written.locator('mtable mtr')).toHaveCount(3);
      await expect(written.locator('munder')).toHaveCount(0);
      await stage.scrollIntoViewIfNeeded();
      await screenshot(page, testInfo, 'classroom-sum', 'classroom');
    }
  }
  await expect(stage.locator('canvas')).toHaveCount(3); // CAM u, CAM v, MinMax-CAM u
  await expect(stage.getByTestId('classroom-method-chip'), 'step 9 is about MinMax-CAM').toHaveText('MinMax-CAM');

  // Presentation mode (F): the stage alone fills the screen, at a projector's 1280x720 and at 1920x1080.
  await page.keyboard.press('f');
  await expect(stage).toHaveAttribute('data-presenting', 'true');
  for (const size of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(300);
    const shown = (await stage.boundingBox())!;
    expect([Math.round(shown.width), Math.round(shown.height)], 'the stage fills the screen').toEqual([size.width, size.height]);
    const covered = await page.evaluate(() => {
      const stageElement = document.querySelector('[data-testid="classroom"]')!;
      return [document.elementFromPoint(5, 5), document.elementFromPoint(window.innerWidth - 5, window.innerHeight - 5)].every(
        (element) => element !== null && stageElement.contains(element),
      );
    });
    expect(covered, 'no app chrome shows around the stage').toBe(true);
    const overflow = await stage.evaluate((element) => element.scrollHeight - element.clientHeight);
    expect(overflow, 'the step fits without scrolling').toBeLessThanOrEqual(0);
    await screenshot(page, testInfo, `classroom-present-${size.width}x${size.height}`);
  }
  await page.keyboard.press('Escape');
  await expect(stage).toHaveAttribute('data-presenting', 'false');
  await page.setViewportSize({ width: 1280, height: 720 });
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
