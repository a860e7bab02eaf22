/** Startup: URL parameters and the bundled model catalog. Pure functions. */
import * as v from 'valibot';
import { BACKEND_CHOICES, type BackendChoice } from '../shared/protocol';

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

const CatalogSchema = v.object({ models: v.array(v.unknown()) }, 'an object with a "models" list');
const text = v.pipe(v.string(), v.minLength(1));
const CatalogEntrySchema = v.object({ id: v.optional(v.unknown()), name: v.optional(v.unknown()), url: text });

/**
 * Validates models/catalog.json: `{ "models": [{ "id", "name", "url" }] }`. Throws on a bad shape; entries
 * without a URL are skipped; a missing id is the URL, a missing name the id.
 */
export function parseCatalog(value: unknown): CatalogEntry[] {
  const catalog = v.safeParse(CatalogSchema, value);
  if (!catalog.success) throw new Error('models/catalog.json has no "models" list.');
  return catalog.output.models.flatMap((item) => {
    const entry = v.safeParse(CatalogEntrySchema, item);
    if (!entry.success) return [];
    const { id, name, url } = entry.output;
    const safeId = v.is(text, id) ? id : url;
    return [{ id: safeId, name: v.is(text, name) ? name : safeId, url }];
  });
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
  if ((/\.json$/i.test(last) || /^model\.onnx$/i.test(last)) && parts.length >= 2) return parts[parts.length - 2] ?? last;
  return last.replace(/\.onnx$/i, '');
}
