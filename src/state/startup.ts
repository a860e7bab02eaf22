/** Startup: URL parameters and the bundled model catalog. Pure functions. */
import type { BackendChoice } from '../shared/protocol';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'wasm', 'webgl', 'cpu'];

export function isBackendChoice(value: string): value is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(value);
}

export interface StartupParams {
  backend: BackendChoice;
  /** `?model=URL`, when given. */
  modelUrl: string | null;
  /** Notes for the user about parameters that were ignored. */
  warnings: string[];
}

/** Reads `?backend=webgpu|wasm|webgl|cpu|auto` (default auto) and `?model=URL`. */
export function parseStartupParams(search: string): StartupParams {
  const params = new URLSearchParams(search);
  const warnings: string[] = [];
  let backend: BackendChoice = 'auto';
  const requested = params.get('backend');
  if (requested !== null && requested !== '') {
    const lower = requested.toLowerCase();
    if (isBackendChoice(lower)) backend = lower;
    else warnings.push(`Unknown backend "${requested}" in the URL: using auto (one of ${BACKEND_CHOICES.join(', ')}).`);
  }
  const model = params.get('model');
  return { backend, modelUrl: model !== null && model.trim() !== '' ? model.trim() : null, warnings };
}

export interface CatalogEntry {
  id: string;
  name: string;
  url: string;
}

/** Validates models/catalog.json: `{ "models": [{ "id", "name", "url" }] }`. Throws on a bad shape. */
export function parseCatalog(value: unknown): CatalogEntry[] {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { models?: unknown }).models)) {
    throw new Error('models/catalog.json has no "models" list.');
  }
  const entries: CatalogEntry[] = [];
  for (const item of (value as { models: unknown[] }).models) {
    if (typeof item !== 'object' || item === null) continue;
    const { id, name, url } = item as Record<string, unknown>;
    if (typeof url !== 'string' || url === '') continue;
    const safeId = typeof id === 'string' && id !== '' ? id : url;
    entries.push({ id: safeId, name: typeof name === 'string' && name !== '' ? name : safeId, url });
  }
  return entries;
}

/** Resolves a possibly relative URL against the page, so the worker (which lives elsewhere) can fetch it. */
export function resolveUrl(url: string, base: string): string {
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

/** A short display name for a model URL: its folder, e.g. ".../resnet50-imagenet/model.json" -> "resnet50-imagenet". */
export function nameFromUrl(url: string): string {
  const clean = url.split(/[?#]/)[0] ?? url;
  const parts = clean.split('/').filter((p) => p !== '');
  const last = parts[parts.length - 1] ?? clean;
  if (/\.json$/i.test(last) && parts.length >= 2) return parts[parts.length - 2] ?? last;
  return last;
}
