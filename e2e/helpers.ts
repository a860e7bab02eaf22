/**
 * Shared helpers for the end-to-end tests. They talk to the studio only through its UI contract:
 * data-testid selectors and `window.__camStudio.getState()` (a plain snapshot).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';

export const ROOT = resolve(import.meta.dirname, '..');
export const FIXTURES = join(ROOT, 'e2e', 'fixtures');
export const SCREENSHOTS = join(ROOT, 'e2e-artifacts', 'screenshots');

/** Where global-setup.ts copies the fixture models so that the preview server serves them (models/ is served at /models/). */
export const SERVED_FIXTURES_PATH = '/models/__e2e__';

export const TINY_MODEL_FILES = ['model.json', 'weights.bin', 'metadata.json'].map((f) => join(FIXTURES, 'tiny-cnn', f));
export const TINY_MODEL_NAME = 'Tiny CNN (test fixture)';
export const TINY_LABEL_NAMES = ['red', 'green', 'blue', 'gray'];
export const RESNET_NAME = 'ResNet50';

/** Loading the 98 MiB ResNet50 (fetch, build, warm-up) can take a while on two cores. */
export const MODEL_READY_TIMEOUT = 150_000;
export const ANALYSIS_TIMEOUT = 150_000;

// ------------------------------------------------------------------------------------------ the snapshot

export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';

export interface StateSnapshot {
  backend: {
    backend: BackendName;
    requested: string;
    adapter: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean } | null;
    reason: string;
  } | null;
  model: { name: string; numClasses: number; inputShape: number[]; targetLayer: string; [key: string]: unknown } | null;
  predictions: Array<{ label: number; name: string; prob: number; logit: number }>;
  labels: number[];
  /** The detected set C_x of the last result. */
  detected: number[];
  maps: Array<{ method: string; label: number; shape: number[]; normalized: number[]; rawMin: number; rawMax: number }>;
  lastError: string | null;
  image: { name: string | null; originalWidth: number; originalHeight: number; policyDescription: string } | null;
  status: { backend: string; model: string; image: string; analysis: string };
  [key: string]: unknown;
}

interface StudioHandle {
  getState(): StateSnapshot;
}

export async function getState(page: Page): Promise<StateSnapshot> {
  return page.evaluate(() => {
    const handle = (window as unknown as { __camStudio?: StudioHandle }).__camStudio;
    if (!handle) throw new Error('window.__camStudio is not defined');
    // Round-trip through JSON: the snapshot must be plain data (typed arrays become number[] here anyway).
    const state = handle.getState();
    return JSON.parse(
      JSON.stringify(state, (_key, value: unknown) =>
        ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as unknown as ArrayLike<number>) : value,
      ),
    ) as StateSnapshot;
  });
}

/** Polls getState() until `predicate` holds; returns the snapshot that satisfied it. */
export async function waitForState(
  page: Page,
  predicate: (state: StateSnapshot) => boolean,
  message: string,
  timeout = ANALYSIS_TIMEOUT,
): Promise<StateSnapshot> {
  let last: StateSnapshot | null = null;
  await expect
    .poll(
      async () => {
        try {
          last = await getState(page);
        } catch {
          return false;
        }
        return predicate(last);
      },
      { message, timeout, intervals: [250, 500, 1000] },
    )
    .toBe(true);
  if (last === null) throw new Error(message);
  return last;
}

// ------------------------------------------------------------------------------------------ page errors

export interface PageProblems {
  pageErrors: string[];
  consoleErrors: string[];
}

/** Records uncaught exceptions and console.error messages (page and its workers). Attach before goto(). */
export function watchPageProblems(page: Page): PageProblems {
  const problems: PageProblems = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (error) => problems.pageErrors.push(`${error.name}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const location = message.location();
      problems.consoleErrors.push(`${message.text()}${location.url ? ` (${location.url}:${location.lineNumber})` : ''}`);
    }
  });
  page.on('worker', (worker) => {
    worker.on('console', (message) => {
      if (message.type() === 'error') problems.consoleErrors.push(`[worker] ${message.text()}`);
    });
  });
  return problems;
}

// -------------------------------------------------------------------------------------------- actions

export function served(path: string, baseURL: string | undefined): string {
  return new URL(path, baseURL ?? 'http://127.0.0.1:4173').href;
}

export function tinyModelUrl(baseURL: string | undefined): string {
  return served(`${SERVED_FIXTURES_PATH}/tiny-cnn/model.json`, baseURL);
}

/**
 * Drops files on the page as a user does from a file manager: a DragEvent whose DataTransfer holds the
 * files, dispatched on the page (what PageDrop listens to).
 */
export async function dropFiles(page: Page, paths: readonly string[]): Promise<void> {
  const files = paths.map((path) => ({ name: basename(path), base64: readFileSync(path).toString('base64') }));
  const transfer = await page.evaluateHandle((items) => {
    const data = new DataTransfer();
    for (const item of items) {
      const bytes = Uint8Array.from(atob(item.base64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], item.name));
    }
    return data;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop'] as const) await page.dispatchEvent('body', type, { dataTransfer: transfer });
  await transfer.dispose();
}

/** Opens the studio with optional URL parameters. */
export async function openStudio(page: Page, params: Record<string, string> = {}): Promise<void> {
  const search = new URLSearchParams(params).toString();
  await page.goto(search ? `/?${search}` : '/');
  await expect(page.getByTestId('model-status')).toBeVisible();
}

/** Waits until model-status is ready and names the model. */
export async function waitForModel(page: Page, nameContains: string): Promise<void> {
  const ready = page.locator('[data-testid="model-status"][data-state="ready"]').filter({ hasText: nameContains });
  await expect(ready, `model-status ready with "${nameContains}"`).toBeVisible({ timeout: MODEL_READY_TIMEOUT });
}

/** Waits for a finished analysis with at least `minMaps` heatmaps for the current model. */
export async function waitForResults(page: Page, minMaps = 1): Promise<StateSnapshot> {
  await expect(page.getByTestId('results')).toHaveAttribute('data-state', 'done', { timeout: ANALYSIS_TIMEOUT });
  return waitForState(
    page,
    (s) => s.predictions.length > 0 && s.maps.length >= minMaps && s.labels.length > 0,
    `predictions and at least ${minMaps} heatmap(s) in getState()`,
  );
}

/**
 * A full-page screenshot kept in e2e-artifacts/screenshots and attached to the report. `readme`: also the
 * visible viewport as e2e-artifacts/screenshots/readme/<readme>.png, the picture README.md shows of a mode
 * (copied to docs/screenshots/ when it changes).
 */
export async function screenshot(page: Page, testInfo: TestInfo, name: string, readme?: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const safe = `${testInfo.titlePath.slice(1).join(' - ')} - ${name}`.replace(/[^a-zA-Z0-9._-]+/g, '_').slice(0, 150);
  const path = join(SCREENSHOTS, `${safe}.png`);
  if (readme !== undefined) {
    mkdirSync(join(SCREENSHOTS, 'readme'), { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'readme', `${readme}.png`) });
  }
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

// ------------------------------------------------------------------------------------------- canvases

export interface CanvasStats {
  width: number;
  height: number;
  /** Pixels with alpha > 0. */
  opaquePixels: number;
  /** Distinct RGBA values (capped at 4096). */
  distinctColors: number;
  /** Standard deviation of the luma over the opaque pixels. */
  lumaStd: number;
}

/** Reads a canvas's pixels (whatever its context type) by drawing it onto a fresh 2D canvas. */
export async function canvasStats(canvas: Locator): Promise<CanvasStats> {
  return canvas.evaluate((element) => {
    if (!(element instanceof HTMLCanvasElement)) throw new Error(`not a canvas: <${element.tagName.toLowerCase()}>`);
    const { width, height } = element;
    if (width === 0 || height === 0) return { width, height, opaquePixels: 0, distinctColors: 0, lumaStd: 0 };
    const copy = document.createElement('canvas');
    copy.width = width;
    copy.height = height;
    const context = copy.getContext('2d');
    if (!context) throw new Error('no 2D context');
    context.drawImage(element, 0, 0);
    const data = context.getImageData(0, 0, width, height).data;
    const colors = new Set<number>();
    let opaque = 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i] ?? 0;
      const g = data[i + 1] ?? 0;
      const b = data[i + 2] ?? 0;
      const a = data[i + 3] ?? 0;
      if (a === 0) continue;
      opaque += 1;
      if (colors.size < 4096) colors.add(((r << 24) | (g << 16) | (b << 8) | a) >>> 0);
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      sum += luma;
      sumSq += luma * luma;
    }
    const mean = opaque > 0 ? sum / opaque : 0;
    const variance = opaque > 0 ? Math.max(0, sumSq / opaque - mean * mean) : 0;
    return { width, height, opaquePixels: opaque, distinctColors: colors.size, lumaStd: Math.sqrt(variance) };
  });
}

export function expectCanvasNotBlank(stats: CanvasStats, what: string): void {
  expect(stats.width * stats.height, `${what}: canvas has a size`).toBeGreaterThan(0);
  expect(stats.opaquePixels, `${what}: some pixels drawn (alpha > 0)`).toBeGreaterThan(0.5 * stats.width * stats.height);
  expect(stats.distinctColors, `${what}: more than a flat fill (distinct colours)`).toBeGreaterThan(8);
  expect(stats.lumaStd, `${what}: some contrast`).toBeGreaterThan(1);
}

// ---------------------------------------------------------------------------------------------- maps

export const mapKey = (map: { method: string; label: number }): string => `${map.method}:${map.label}`;

export function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length, 'maps of the same size').toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return max;
}

/** The largest |difference| between the normalised maps of two runs; every map of `a` must be in `b` (same method and label). */
export function worstMapDifference(a: StateSnapshot, b: StateSnapshot, bName: string): number {
  let worst = 0;
  for (const map of a.maps) {
    const other = b.maps.find((m) => mapKey(m) === mapKey(map));
    if (other === undefined) throw new Error(`${bName} lacks ${mapKey(map)}`);
    worst = Math.max(worst, maxAbsDiff(map.normalized, other.normalized));
  }
  return worst;
}

/** Checks that each map is ReLU + min-max normalised data of the declared shape. */
export function expectWellFormedMaps(state: StateSnapshot): void {
  for (const map of state.maps) {
    const [h = 0, w = 0] = map.shape;
    const what = `map ${mapKey(map)}`;
    expect(map.normalized.length, `${what}: normalized has shape ${h}x${w}`).toBe(h * w);
    let min = Infinity;
    let max = -Infinity;
    let finite = true;
    for (const v of map.normalized) {
      finite &&= Number.isFinite(v);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    // One assertion per property (an expect() per value made a 20-method grid take minutes to check).
    expect(finite, `${what}: finite values`).toBe(true);
    expect(min, `${what}: min >= 0`).toBeGreaterThanOrEqual(-1e-6);
    expect(max, `${what}: max <= 1`).toBeLessThanOrEqual(1 + 1e-6);
    expect(map.rawMin, `${what}: ReLU-ed raw range`).toBeGreaterThanOrEqual(0);
    expect(map.rawMax, `${what}: raw range ordered`).toBeGreaterThanOrEqual(map.rawMin);
    if (map.rawMax > map.rawMin) expect(max, `${what}: normalised to a max of 1`).toBeCloseTo(1, 4);
  }
}

/** Runs `action` and waits for a new lastError; checks the banner shows it. Returns the message. */
export async function expectNewError(page: Page, action: () => Promise<void>, what: string): Promise<string> {
  const before = (await getState(page)).lastError;
  await action();
  const state = await waitForState(page, (s) => s.lastError !== null && s.lastError !== before, `an error for ${what}`);
  const message = state.lastError ?? '';
  expect(message.trim().length, `${what}: the error has a message`).toBeGreaterThan(0);
  const banner = page.getByTestId('error-banner');
  await expect(banner.first(), `${what}: the error banner is shown`).toBeVisible();
  await expect(banner.first()).toHaveAttribute('role', 'alert');
  await expect(banner.filter({ hasText: message.slice(0, 60) }), `${what}: the banner shows the message`).not.toHaveCount(0);
  return message;
}

/**
 * A folder for the files a test writes (fixtures to drop, downloads), inside the test's own output folder:
 * Playwright empties test-results/ at the start of each run, so nothing piles up in the system temp folder.
 */
export function testDirectory(name: string): string {
  const directory = test.info().outputPath(name);
  mkdirSync(directory, { recursive: true });
  return directory;
}
