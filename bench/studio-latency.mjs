#!/usr/bin/env node
// `npm run bench:studio`: latency of the studio itself, in headless Chromium on the built app.
// Measures, on the default model and the auto-chosen backend: time until the model is ready after page
// load, and time from dropping a photo (file input) to the first heatmaps, for each sample photo
// (the first drop includes the engine's first-run costs). Prints JSON.
// Needs `npm run build` first and Chromium (/usr/bin/chromium or CHROMIUM_PATH).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'index.html'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
const port = 4390;
const server = spawn(
  process.execPath,
  [join(root, 'node_modules/vite/bin/vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
  { cwd: root, stdio: 'ignore' },
);
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const browser = await chromium.launch({
  ...(executablePath ? { executablePath } : {}),
  args: [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  await new Promise((r) => setTimeout(r, 1500));
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const started = Date.now();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('[data-testid="model-status"][data-state="ready"]', { timeout: 300_000 });
  const modelReadyMs = Date.now() - started;
  const drops = [];
  for (const file of ['chelsea.png', 'coffee.png', 'astronaut.png', 'rocket.jpg']) {
    const previous = await page.evaluate(() => window.__camStudio.getState().jobId ?? null);
    const t0 = Date.now();
    await page.getByTestId('image-input').setInputFiles(join(root, 'public', 'samples', file));
    await page.waitForFunction(
      (job) => {
        const s = window.__camStudio.getState();
        return (
          s.jobId !== job && s.maps.length > 0 && document.querySelector('[data-testid="results"]')?.getAttribute('data-state') === 'done'
        );
      },
      previous,
      { timeout: 300_000 },
    );
    const state = await page.evaluate(() => window.__camStudio.getState());
    drops.push({ file, dropToHeatmapsMs: Date.now() - t0, maps: state.maps.length, engineTimingsMs: state.timingsMs });
  }
  const state = await page.evaluate(() => window.__camStudio.getState());
  console.log(
    JSON.stringify(
      {
        browser: browser.version(),
        backend: state.backend,
        model: state.model?.name,
        methods: [...new Set(state.maps.map((m) => m.method))],
        modelReadyMs,
        drops,
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  server.kill();
}
