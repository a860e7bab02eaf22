/**
 * The studio's settings that outlive a page: the mode, the model (when it came from a URL), the methods and
 * the look. Kept in localStorage across reloads, and written into a shareable URL (the images never are:
 * they stay on the user's machine). Pure: validation and the URL format, no DOM.
 *
 * URL parameters: `model`, `backend`, `mode`, `methods` (comma-separated ids), `colormap`, `opacity`,
 * `topk`, `detect` (`sigmoid:0.5`, `prob:0.2`, `topk:3`, `gt:1,4`), `grid` (`labels-by-methods` or
 * `methods-by-labels`), `busy`. Unknown or bad values are dropped with a warning; the rest still applies.
 * Each value is checked with the schemas of src/shared (and persistence.ts keeps the stored copy).
 */
import * as v from 'valibot';
import { COLORMAP_IDS, type ColormapId } from '../shared/colormap';
import { DetectionRuleSchema, formatDetectionRule, parseDetectionRule, type DetectionRule } from '../shared/detection';
import { isMethodId, type MethodId } from '../shared/methods';
import { choiceField, fromText, integerField, numberField } from '../shared/schema';
import { STUDIO_MODES, type StudioMode, type WhileBusy } from './constants';
import type { StudioState } from './types';

/** The localStorage key (its "v1" is the name's; the layout's version is inside, see persistence.ts). */
export const SETTINGS_STORAGE_KEY = 'cam-studio.settings.v1';
const MODES = choiceField(STUDIO_MODES);
const COLORMAPS = choiceField(COLORMAP_IDS);
const OPACITY = numberField(0, 1);
const TOP_K = integerField(1, 100);
const WHILE_BUSY = choiceField<WhileBusy>(['supersede', 'queue']);
const valid = <T>(schema: v.GenericSchema<unknown, T>, value: unknown): value is T => v.is(schema, value);

export interface StudioSettings {
  mode?: StudioMode;
  /** A model URL (relative to the studio when it is served by it). */
  model?: string;
  methods?: MethodId[];
  colormap?: ColormapId;
  opacity?: number;
  topK?: number;
  detection?: DetectionRule | null;
  gridTransposed?: boolean;
  /** What a new image does to a running analysis (ViewSlice.whileBusy). */
  whileBusy?: WhileBusy;
}

/** The settings of the current state; the model only when it was loaded from a URL (not from dropped files). */
export function settingsOf(
  state: Pick<StudioState, 'mode' | 'model' | 'methods' | 'colormap' | 'opacity' | 'topK' | 'detection' | 'gridTransposed' | 'whileBusy'>,
  baseUrl: string,
): StudioSettings {
  const settings: StudioSettings = {
    mode: state.mode,
    methods: [...state.methods],
    colormap: state.colormap,
    opacity: state.opacity,
    topK: state.topK,
    detection: state.detection,
    gridTransposed: state.gridTransposed,
    whileBusy: state.whileBusy,
  };
  const source = state.model?.source;
  if (source !== undefined && /^https?:\/\//.test(source))
    settings.model = source.startsWith(baseUrl) ? source.slice(baseUrl.length) : source;
  return settings;
}

/** Validates settings read back from storage (anything else in there is ignored). */
export function parseStoredSettings(text: string | null): StudioSettings {
  if (text === null) return {};
  try {
    return parseStoredSettingsValue(JSON.parse(text));
  } catch {
    return {};
  }
}

/** Validates a stored settings object field by field: a bad field is dropped, the others kept. */
export function parseStoredSettingsValue(value: unknown): StudioSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const record = value as Record<string, unknown>;
  const search = new URLSearchParams();
  if (typeof record['mode'] === 'string') search.set('mode', record['mode']);
  if (typeof record['model'] === 'string') search.set('model', record['model']);
  if (Array.isArray(record['methods'])) search.set('methods', record['methods'].filter((m) => typeof m === 'string').join(','));
  if (typeof record['colormap'] === 'string') search.set('colormap', record['colormap']);
  if (typeof record['opacity'] === 'number') search.set('opacity', String(record['opacity']));
  if (typeof record['topK'] === 'number') search.set('topk', String(record['topK']));
  if (typeof record['gridTransposed'] === 'boolean')
    search.set('grid', record['gridTransposed'] ? 'methods-by-labels' : 'labels-by-methods');
  if (typeof record['whileBusy'] === 'string') search.set('busy', record['whileBusy']);
  const parsed = settingsFromSearch(`?${search.toString()}`).settings;
  if (record['detection'] === null) parsed.detection = null;
  else if (valid(DetectionRuleSchema, record['detection'])) parsed.detection = record['detection']; // a malformed rule: the head's default applies
  return parsed;
}

/** The settings a URL's query carries, and a warning for every value that was dropped. */
export function settingsFromSearch(search: string): { settings: StudioSettings; warnings: string[] } {
  const params = new URLSearchParams(search);
  const settings: StudioSettings = {};
  const warnings: string[] = [];
  const mode = params.get('mode');
  if (mode !== null) {
    if (valid(MODES.schema, mode)) settings.mode = mode;
    else warnings.push(`Unknown mode "${mode}" in the URL (${MODES.allowed}).`);
  }
  const model = params.get('model');
  if (model !== null && model.trim() !== '') settings.model = model.trim();
  const methods = params.get('methods');
  if (methods !== null) {
    const ids = methods
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    const unknown = ids.filter((id) => !isMethodId(id));
    if (unknown.length > 0) warnings.push(`Unknown method(s) in the URL: ${unknown.join(', ')}.`);
    const known = ids.filter(isMethodId);
    if (known.length > 0) settings.methods = [...new Set(known)];
  }
  const colormap = params.get('colormap');
  if (colormap !== null) {
    if (valid(COLORMAPS.schema, colormap)) settings.colormap = colormap;
    else warnings.push(`Unknown colour map "${colormap}" in the URL (${COLORMAPS.allowed}).`);
  }
  const opacity = params.get('opacity');
  if (opacity !== null) {
    const parsed = v.safeParse(fromText(OPACITY), opacity);
    if (parsed.success) settings.opacity = parsed.output;
    else warnings.push(`The opacity in the URL must be ${OPACITY.allowed} (got "${opacity}").`);
  }
  const topK = params.get('topk');
  if (topK !== null) {
    const parsed = v.safeParse(fromText(TOP_K), topK);
    if (parsed.success) settings.topK = parsed.output;
    else warnings.push(`topk in the URL must be ${TOP_K.allowed} (got "${topK}").`);
  }
  const detect = params.get('detect');
  if (detect !== null) {
    try {
      settings.detection = parseDetectionRule(detect);
    } catch (error) {
      warnings.push((error as Error).message);
    }
  }
  const grid = params.get('grid');
  if (grid !== null) {
    if (grid === 'methods-by-labels' || grid === 'labels-by-methods') settings.gridTransposed = grid === 'methods-by-labels';
    else warnings.push(`grid in the URL is labels-by-methods or methods-by-labels (got "${grid}").`);
  }
  const busy = params.get('busy');
  if (busy !== null) {
    if (valid(WHILE_BUSY.schema, busy)) settings.whileBusy = busy;
    else warnings.push(`busy in the URL is ${WHILE_BUSY.values.join(' or ')} (got "${busy}").`);
  }
  return { settings, warnings };
}

/** The query string of a shareable link (settings only, never images); `backend` is kept when given. */
export function settingsToSearch(settings: StudioSettings, backend?: string): string {
  const params = new URLSearchParams();
  if (settings.model !== undefined) params.set('model', settings.model);
  if (backend !== undefined && backend !== 'auto') params.set('backend', backend);
  if (settings.mode !== undefined && settings.mode !== 'explore') params.set('mode', settings.mode);
  if (settings.methods !== undefined) params.set('methods', settings.methods.join(','));
  if (settings.colormap !== undefined) params.set('colormap', settings.colormap);
  if (settings.opacity !== undefined) params.set('opacity', String(settings.opacity));
  if (settings.topK !== undefined) params.set('topk', String(settings.topK));
  if (settings.detection !== undefined && settings.detection !== null) params.set('detect', formatDetectionRule(settings.detection));
  if (settings.gridTransposed !== undefined) params.set('grid', settings.gridTransposed ? 'methods-by-labels' : 'labels-by-methods');
  if (settings.whileBusy !== undefined && settings.whileBusy !== 'supersede') params.set('busy', settings.whileBusy);
  return `?${params.toString()}`;
}
