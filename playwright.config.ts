import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

/**
 * End-to-end tests: the built app (vite build + vite preview on 127.0.0.1:4173) in headless Chromium.
 *
 * The browser is Debian's /usr/bin/chromium (or CHROMIUM_PATH); where neither exists, Playwright's own
 * browser. Nothing here downloads a browser. WebGPU runs headless through SwiftShader with
 * --enable-unsafe-webgpu (only on an http page). Never add --disable-software-rasterizer: it disables
 * both WebGPU and WebGL in a GPU-less machine.
 */
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const executablePath = existsSync(chromiumPath) ? chromiumPath : undefined;

const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const port = Number(process.env['E2E_PORT'] ?? 4173);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  outputDir: 'e2e-artifacts',
  // Two cores, and WebGPU on SwiftShader is slow: one test at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env['CI'],
  timeout: 180_000,
  expect: { timeout: 60_000 },
  reporter: [['list'], ['json', { outputFile: '.playwright-report.json' }]],
  use: {
    baseURL,
    screenshot: 'on',
    trace: 'retain-on-failure',
    actionTimeout: 60_000,
    navigationTimeout: 60_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        viewport: { width: 1400, height: 1000 },
        launchOptions: {
          ...(executablePath !== undefined ? { executablePath } : {}),
          args: chromiumArgs,
        },
      },
    },
  ],
  webServer: {
    command: `npm run build && node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port ${port} --strictPort`,
    url: baseURL,
    reuseExistingServer: !process.env['CI'],
    timeout: 300_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
