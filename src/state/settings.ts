/**
 * The studio's settings that outlive a page: the mode, the model (when it came from a URL), the methods and
 * the look. Kept in localStorage across reloads, and written into a shareable URL (the images never are:
 * they stay on the user's machine). Pure: validation and the URL format, no DOM.
 *
 * URL parameters: `model`, `backend`, `mode`, `methods` (comma-separated ids), `colormap`, `opacity`,
 * `topk`, `detect` (`sigmoid:0.5`, `prob:0.2`, `topk:3`, `gt:1,4`), `grid` (`labels-by-methods` or
 * `methods-by-labels`). Unknown or bad values are dropped with a warning; the rest still applies.
 */
import { COLORMAP_IDS, type ColormapId } from '../charts/colormap';
import { formatDetectionRule, parseDetectionRule, type DetectionRule } from '../core/detection';
import { isMethodId, type MethodId } from '../core/methods/method-ids';
import type { StudioMode, StudioState, WhileBusy } from './store';

export const SETTINGS_STORAGE_KEY = 'cam-studio.settings.v1';
const MODES: readonly StudioMode[] = ['explore', 'classroom', 'figure'];

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
  /** What a new image does to a running analysis (store.ts ViewSlice.whileBusy). */
  whileBusy?: WhileBusy;
}

/** The settings of the current state; the model only when it was loaded from a URL (not from dropped files). */
export function settingsOf(state: Pick<StudioState, 'mode' | 'model' | 'methods' | 'colormap' | 'opacity' | 'topK' | 'detection' | 'gridTransposed' | 'whileBusy'>, baseUrl: string): StudioSettings {
  const settings: StudioSettings = {
    mode: state.mode, methods: [...state.methods], colormap: state.colormap, opacity: state.opacity, topK: state.topK,
    detection: state.detection, gridTransposed: state.gridTransposed, whileBusy: state.whileBusy,
  };
  const source = state.model?.source;
  if (source !== undefined && /^https?:\/\//.test(source)) settings.model = source.startsWith(baseUrl) ? source.slice(baseUrl.length) : source;
  return settings;
}

/** Validates settings read back from storage (anything else in there is ignored). */
export function parseStoredSettings(text: string | null): StudioSettings {
  if (text === null) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const v = value as Record<string, unknown>;
  const search = new URLSearchParams();
  if (typeof v['mode'] === 'string') search.set('mode', v['mode']);
  if (typeof v['model'] === 'string') search.set('model', v['model']);
  if (Array.isArray(v['methods'])) search.set('methods', v['methods'].filter((m) => typeof m === 'string').join(','));
  if (typeof v['colormap'] === 'string') search.set('colormap', v['colormap']);
  if (typeof v['opacity'] === 'number') search.set('opacity', String(v['opacity']));
  if (typeof v['topK'] === 'number') search.set('topk', String(v['topK']));
  if (typeof v['gridTransposed'] === 'boolean') search.set('grid', v['gridTransposed'] ? 'methods-by-labels' : 'labels-by-methods');
  if (typeof v['whileBusy'] === 'string') search.set('busy', v['whileBusy']);
  const parsed = settingsFromSearch(`?${search.toString()}`).settings;
  if (v['detection'] === null) parsed.detection = null;
  else if (typeof v['detection'] === 'object') {
    try {
      parsed.detection = parseDetectionRule(formatDetectionRule(v['detection'] as DetectionRule));
    } catch {
      // a malformed rule: the head's default applies
    }
  }
  return parsed;
}

/** The settings a URL's query carries, and a warning for every value that was dropped. */
export function settingsFromSearch(search: string): { settings: StudioSettings; warnings: string[] } {
  const params = new URLSearchParams(search);
  const settings: StudioSettings = {};
  const warnings: string[] = [];
  const mode = params.get('mode');
  if (mode !== null) {
    if ((MODES as readonly string[]).includes(mode)) settings.mode = mode as StudioMode;
    else warnings.push(`Unknown mode "${mode}" in the URL (one of ${MODES.join(', ')}).`);
  }
  const model = params.get('model');
  if (model !== null && model.trim() !== '') settings.model = model.trim();
  const methods = params.get('methods');
  if (methods !== null) {
    const ids = methods.split(',').map((m) => m.trim()).filter((m) => m !== '');
    const unknown = ids.filter((id) => !isMethodId(id));
    if (unknown.length > 0) warnings.push(`Unknown method(s) in the URL: ${unknown.join(', ')}.`);
    const known = ids.filter(isMethodId);
    if (known.length > 0) settings.methods = [...new Set(known)];
  }
  const colormap = params.get('colormap');
  if (colormap !== null) {
    if ((COLORMAP_IDS as readonly string[]).includes(colormap)) settings.colormap = colormap as ColormapId;
    else warnings.push(`Unknown colour map "${colormap}" in the URL (one of ${COLORMAP_IDS.join(', ')}).`);
  }
  const opacity = params.get('opacity');
  if (opacity !== null) {
    const value = Number(opacity);
    if (opacity !== '' && value >= 0 && value <= 1) settings.opacity = value;
    else warnings.push(`The opacity in the URL must be between 0 and 1 (got "${opacity}").`);
  }
  const topK = params.get('topk');
  if (topK !== null) {
    const value = Number(topK);
    if (Number.isInteger(value) && value >= 1 && value <= 100) settings.topK = value;
    else warnings.push(`topk in the URL must be an integer from 1 to 100 (got "${topK}").`);
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
    if (busy === 'supersede' || busy === 'queue') settings.whileBusy = busy;
    else warnings.push(`busy in the URL is supersede or queue (got "${busy}").`);
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
