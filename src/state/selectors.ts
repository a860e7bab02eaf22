/**
 * Everything derived from the store's state, in one module: pure functions of the state (React reads
 * them through `useStudio(selector)`; the slices call them too). A selector that builds an array or object
 * returns a shared value when it can, because React's useSyncExternalStore needs stable values.
 */
import { defaultDetectionRule, parseDetectionRule, type DetectionRule } from '../shared/detection';
import { DEFAULT_SMOOTH, DEFAULT_TTA, optionsForRequest } from '../shared/options';
import type { AnalyzeRequest, AnalyzeResult, MethodId } from '../shared/protocol';
import { figureColumns } from '../figure/spec';
import type { MetaSettings } from './constants';
import { resolveUrl } from './startup';
import type { StudioState } from './types';

/** The `meta` field of an analyze request, absent when no meta-method is on. */
export function metaForRequest(meta: MetaSettings): Pick<AnalyzeRequest, 'meta'> | Record<string, never> {
  if (!meta.tta && meta.smoothSamples <= 0) return {};
  return {
    meta: {
      ...(meta.tta ? { tta: { hflip: DEFAULT_TTA.hflip, scales: [...DEFAULT_TTA.scales] } } : {}),
      ...(meta.smoothSamples > 0 ? { smooth: { ...DEFAULT_SMOOTH, samples: meta.smoothSamples } } : {}),
    },
  };
}

/** Methods chosen by the user that the current model supports, in registry order. */
export function effectiveMethods(state: Pick<StudioState, 'methods' | 'model'>): MethodId[] {
  const model = state.model;
  if (!model) return [...state.methods];
  return state.methods.filter((id) => model.methods.some((m) => m.id === id && m.available));
}

/** The detected-set rule in force: the user's, else the default of the model's head. */
export function effectiveDetection(state: Pick<StudioState, 'detection' | 'model'>): DetectionRule {
  return state.detection ?? defaultDetectionRule(state.model?.headActivation ?? 'softmax');
}

/** An analysis request for the current settings, without the display size (the image's own). */
export function analyzeRequestBase(state: StudioState, labels: AnalyzeRequest['labels']): Omit<AnalyzeRequest, 'displaySize'> {
  const options = optionsForRequest(state.methodOptions);
  return {
    labels,
    methods: effectiveMethods(state),
    topK: state.topK,
    ...(state.detection === null ? {} : { detection: state.detection }),
    ...(options === undefined ? {} : { options }),
    ...metaForRequest(state.meta),
  };
}

/** One shared empty list, so selectors return a stable value. */
const NO_LABELS: readonly number[] = Object.freeze([]);

/** Labels shown as explained (the checkbox state of each prediction row). */
export function explainedLabels(state: Pick<StudioState, 'selectedLabels' | 'result'>): readonly number[] {
  if (state.selectedLabels !== 'auto') return state.selectedLabels;
  return state.result ? state.result.labels : NO_LABELS;
}

/** True when the metrics shown were computed for another image or model than the current ones. */
export function metricsStale(state: Pick<StudioState, 'metricsFor' | 'image' | 'model'>): boolean {
  const target = state.metricsFor;
  return target !== null && (target.image !== state.image || target.loadId !== state.model?.loadId);
}

/** The engine has its backend and model (not starting again after a crash). */
export function engineReady(state: StudioState): boolean {
  return state.backendStatus === 'ready' && state.modelStatus === 'ready' && state.model !== null;
}

// ---- figures ----

/** The figure's detected-set rule: its own (from loaded settings), else the studio's, else the head's default (null). */
export function figureDetection(state: Pick<StudioState, 'figureSpec' | 'detection'>): DetectionRule | null {
  return state.figureSpec.detection !== null ? parseDetectionRule(state.figureSpec.detection) : state.detection;
}

/** What a row's cells depend on: the model load, the columns and the detection rule. */
export function figureCellsKey(state: Pick<StudioState, 'figureSpec' | 'model' | 'detection'>): string {
  return JSON.stringify([state.model?.loadId ?? null, figureColumns(state.figureSpec), figureDetection(state)]);
}

/** The catalog id of the loaded model, if it came from the catalog. */
export function currentCatalogId(state: Pick<StudioState, 'catalog' | 'model'>, baseUrl: string): string | null {
  const source = state.model?.source;
  if (source === undefined) return null;
  return state.catalog.find((entry) => resolveUrl(entry.url, baseUrl) === source)?.id ?? null;
}

// ---- classroom and inspector ----

/** The labels the walkthrough cycles through: the current image's top predictions, most probable first. */
export function classroomCandidates(state: Pick<StudioState, 'result'>): number[] {
  return state.result?.predictions.map((p) => p.label) ?? [];
}

/** u and v in force: the chosen ones while they are among the predictions, else the defaults. */
export function classroomLabels(state: Pick<StudioState, 'result' | 'classroomLabel' | 'classroomContrast'>): {
  label: number | null;
  contrast: number | null;
} {
  const candidates = classroomCandidates(state);
  // A chosen label that is not among this image's predictions (a new image or model) falls back to the default.
  const chosen = (value: number | null): number | null => (value !== null && candidates.includes(value) ? value : null);
  const label = chosen(state.classroomLabel) ?? candidates[0] ?? null;
  const contrast = chosen(state.classroomContrast) ?? candidates.find((c) => c !== label) ?? null;
  return { label, contrast: contrast === label ? null : contrast };
}

export function walkthroughKey(
  state: Pick<StudioState, 'result' | 'classroomLabel' | 'classroomContrast' | 'model' | 'image'>,
): string | null {
  const { label, contrast } = classroomLabels(state);
  if (state.model === null || state.image === null || label === null) return null;
  return JSON.stringify([state.model.loadId, state.model.targetLayer, state.result?.jobId ?? null, label, contrast]);
}

/** The label MinMax contrasts the inspected one with: the first other label of the detected set. */
export function inspectorContrast(state: Pick<StudioState, 'result'>, label: number): number | null {
  return state.result?.detected.find((other) => other !== label) ?? null;
}

// ---- the exploration queue ----

/** The settings key of a request: everything but the display size. */
export function settingsKey(request: Omit<AnalyzeRequest, 'displaySize'> & { displaySize?: unknown }, loadId: number): string {
  const { displaySize: _size, ...rest } = request;
  return JSON.stringify([loadId, rest]);
}

/** The queued result for the current image and exactly this request, if the background already made it. */
export function queuedResult(state: StudioState, request: AnalyzeRequest): AnalyzeResult | null {
  if (state.model === null || state.queueCurrent === null) return null;
  const item = state.queue.find((candidate) => candidate.id === state.queueCurrent);
  if (item?.result === undefined || item.request === undefined || item.blob !== state.imageBlob) return null;
  if (item.result.loadId !== state.model.loadId || JSON.stringify(item.request) !== JSON.stringify(request)) return null;
  return item.result;
}

/** Whether the user is waiting on the engine (then the queue waits). */
export function foregroundBusy(state: StudioState): boolean {
  return (
    state.analysisStatus === 'busy' ||
    state.imageStatus === 'loading' ||
    state.modelStatus === 'loading' ||
    state.metricsStatus === 'busy' ||
    state.batchStatus === 'running' ||
    state.figureStatus === 'busy' ||
    state.walkthroughStatus === 'busy' ||
    state.inspectorStatus === 'busy'
  );
}
