/**
 * The first screen (issue #16), at the two laptop sizes people use (1440x900, 1280x720): after loading a
 * photo the first heatmap is inside the viewport without scrolling; with 7 methods and 5 labels neither the
 * page nor the heatmap grid overflows to the right (cells shrink to fit), and the label column and method
 * headers stay in view while the grid scrolls; errors appear inside the viewport and stay until dismissed.
 * Screenshots of each mode at both sizes are kept in e2e-artifacts/screenshots/.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dropFiles, FIXTURES, openStudio, RESNET_NAME, ROOT, screenshot, waitForModel, waitForResults, waitForState } from './helpers';

const SIZES = [
  { width: 1440, height: 900 },
  { width: 1280, height: 720 },
];
const SEVEN_METHODS = ['cam', 'gradcam', 'gradcampp', 'minmax-cam', 'layercam', 'xgradcam', 'eigencam'];

async function horizontalOverflow(page: Page): Promise<{ page: number; grid: number }> {
  return page.evaluate(() => {
    const root = document.scrollingElement!;
    const table = document.querySelector('[data-testid="heatmap-table"]');
    const scroller = table?.closest('.grid-scroll');
    return {
      page: root.scrollWidth - root.clientWidth,
      grid: scroller ? scroller.scrollWidth - scroller.clientWidth : 0,
    };
  });
}

for (const size of SIZES) {
  test(`first screen at ${size.width}x${size.height}: heatmap in view, 7 methods x 5 labels fit, errors in view`, async ({
    page,
  }, testInfo) => {
    test.setTimeout(300_000);
    await page.setViewportSize(size);
    await openStudio(page, { backend: 'wasm' });
    await waitForModel(page, RESNET_NAME);
    await dropFiles(page, [join(ROOT, 'public/samples/chelsea.png')]);
    await waitForResults(page);
    const first = page.getByTestId('heatmap-cell').first();
    await expect(first).toBeVisible();
    const box = (await first.boundingBox())!;
    expect(box.y + box.height, 'first heatmap bottom inside the viewport').toBeLessThanOrEqual(size.height);
    expect(box.x + box.width, 'first heatmap right edge inside the viewport').toBeLessThanOrEqual(size.width);
    expect(box.y, 'first heatmap top inside the viewport').toBeGreaterThanOrEqual(0);
    await screenshot(page, testInfo, `explore-${size.width}x${size.height}`, `first-screen-${size.width}x${size.height}`);

    await page.evaluate(async (methods) => {
      const store = window.__camStudio!.store.getState();
      await store.setTopK(5);
      await store.setSelectedLabels(store.result!.predictions.slice(0, 5).map((p) => p.label));
      await window.__camStudio!.store.getState().setMethods(methods as never);
    }, SEVEN_METHODS);
    await waitForState(page, (s) => s.maps.length === 35 && s.status.analysis === 'done', '7 methods x 5 labels', 240_000);
    const overflow = await horizontalOverflow(page);
    expect(overflow.page, 'page scrolls sideways').toBeLessThanOrEqual(0);
    expect(overflow.grid, 'heatmap grid scrolls sideways').toBeLessThanOrEqual(0);
    // Every column header and every row label fully inside the viewport's width.
    for (const header of await page.getByTestId('grid-column-header').all()) {
      const b = (await header.boundingBox())!;
      expect(b.x + b.width, 'method header inside the viewport').toBeLessThanOrEqual(size.width);
    }
    const rowNames = await page
      .locator('.heatmap-table .row-head .axis-name')
      .evaluateAll((nodes) => nodes.map((node) => ({ text: node.textContent, scroll: node.scrollWidth, client: node.clientWidth })));
    expect(rowNames.length).toBe(5);
    for (const name of rowNames) expect(name.scroll, `row label "${name.text}" not clipped`).toBeLessThanOrEqual(name.client + 1);
    // Egyptian_cat, tiger_cat and tabby name one cat: MinMax is shown, so the studio says what that does to it.
    await expect(page.getByTestId('same-object-note')).toBeVisible();
    await screenshot(page, testInfo, `explore-7x5-${size.width}x${size.height}`);

    // A bad file: the error is inside the viewport, and stays until dismissed.
    await page.mouse.wheel(0, 600);
    await dropFiles(page, [join(FIXTURES, 'not-an-image.png')]);
    const alert = page.getByRole('alert').filter({ hasText: /could not be decoded/ });
    await expect(alert).toBeVisible();
    const alertBox = (await alert.boundingBox())!;
    expect(alertBox.y, 'error top inside the viewport').toBeGreaterThanOrEqual(0);
    expect(alertBox.y + alertBox.height, 'error bottom inside the viewport').toBeLessThanOrEqual(size.height);
    await page.waitForTimeout(6000);
    await expect(alert, 'the error stays until dismissed').toBeVisible();
    await screenshot(page, testInfo, `error-${size.width}x${size.height}`);
    await alert.getByRole('button', { name: /dismiss/i }).click();
    await expect(alert).toBeHidden();

    for (const mode of ['Classroom', 'Figures'] as const) {
      await page.getByRole('tab', { name: mode }).click();
      await page.waitForTimeout(1500);
      const modeOverflow = await horizontalOverflow(page);
      expect(modeOverflow.page, `${mode}: page scrolls sideways`).toBeLessThanOrEqual(0);
      await screenshot(page, testInfo, `${mode.toLowerCase()}-${size.width}x${size.height}`);
    }
  });
}
