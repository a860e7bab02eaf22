/**
 * Settings persist across reloads (localStorage) and travel in a shareable link (issue #6); the link
 * carries settings only, never images.
 */
import { expect, test } from '@playwright/test';
import { getState, openStudio, waitForModel } from './helpers';

test('a reload keeps the mode, model and colour map; "Share settings" gives a link that opens the same in a fresh browser', async ({
  page,
  browser,
}) => {
  await openStudio(page, { model: 'models/shapes-resnet/model.json', backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  await page.getByTestId('colormap-select').selectOption('magma');
  await page.getByRole('tab', { name: 'Figures' }).click();

  await page.goto('/'); // no parameters: everything comes from storage
  await waitForModel(page, 'Shapes ResNet');
  await expect(page.getByRole('tab', { name: 'Figures' })).toHaveAttribute('aria-selected', 'true');
  expect((await getState(page)).colormap).toBe('magma');

  await page.getByTestId('share-settings').click();
  const link = await page.getByTestId('share-link').inputValue();
  // The copy is confirmed (or the user is told to copy by hand when the clipboard is not allowed).
  await expect(page.getByTestId('share-copied')).toHaveText(/Copied|Select and copy/);
  const url = new URL(link);
  expect(Object.fromEntries(url.searchParams)).toMatchObject({
    mode: 'figure',
    colormap: 'magma',
    model: 'models/shapes-resnet/model.json',
  });
  expect(link).not.toMatch(/blob:|data:|\.png/);

  const fresh = await browser.newContext();
  try {
    const other = await fresh.newPage();
    await other.goto(link);
    await waitForModel(other, 'Shapes ResNet');
    await expect(other.getByRole('tab', { name: 'Figures' })).toHaveAttribute('aria-selected', 'true');
    expect((await getState(other)).colormap).toBe('magma');
  } finally {
    await fresh.close();
  }
});
