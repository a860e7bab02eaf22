/**
 * The analysis of the current image: which labels, the detected-set rule, the method options and
 * meta-methods, and the results. A newer analysis supersedes an older one (its result is dropped); a result
 * computed for a model that is no longer loaded is dropped too.
 */
import { defaultDetectionRule, sameRule, type DetectionRule } from '../../shared/detection';
import { DEFAULT_METHOD_OPTIONS, OPTION_FAMILIES, mergeMethodOptions } from '../../shared/options';
import { METHOD_DESCRIPTORS } from '../../shared/methods';
import type { AnalyzeRequest } from '../../shared/protocol';
import { DEFAULT_META_SETTINGS } from '../constants';
import { toUiError } from '../errors';
import { cancelRunning, settle, type StoreRequests } from '../latest';
import { analyzeRequestBase, effectiveMethods, explainedLabels, queuedResult } from '../selectors';
import type { AnalysisSlice, Slice, StudioDeps } from '../types';
import { rememberQueuedResult } from './queue';

function copyRule(rule: DetectionRule): DetectionRule {
  return rule.kind === 'ground-truth' ? { kind: rule.kind, labels: [...rule.labels] } : { ...rule };
}

export function analysisSlice(deps: StudioDeps, requests: StoreRequests): Slice<AnalysisSlice> {
  return (set, get) => ({
    result: null,
    resultRequest: null,
    analysisStatus: 'idle',
    analyzeProgress: null,
    selectedLabels: 'auto',
    runningRequest: null,
    detection: null,
    methodOptions: DEFAULT_METHOD_OPTIONS,
    meta: DEFAULT_META_SETTINGS,
    setMeta: async (patch) => {
      const next = { ...get().meta, ...patch };
      if (JSON.stringify(next) === JSON.stringify(get().meta)) return;
      set({ meta: next });
      await get().analyze();
    },
    analyze: async () => {
      const state = get();
      const { model, image } = state;
      if (!model || !image) return;
      const signal = requests.analyze.begin();
      const methods = effectiveMethods(state);
      const labels = state.selectedLabels === 'auto' ? 'auto' : [...state.selectedLabels];
      const request: AnalyzeRequest = {
        ...analyzeRequestBase(state, labels),
        displaySize: [Math.max(1, image.display.height), Math.max(1, image.display.width)],
      };
      // An image of the exploration queue already explained in the background with these settings: instant.
      const queued = queuedResult(state, request);
      if (queued !== null) {
        set({ result: queued, resultRequest: request, analysisStatus: 'done', analyzeProgress: null, runningRequest: null });
        void get().processQueue();
        return;
      }
      // Nothing to explain: keep the predictions we have, drop the maps, no round trip.
      const previous = state.result;
      if (
        (methods.length === 0 || (labels !== 'auto' && labels.length === 0)) &&
        previous &&
        state.resultRequest?.topK === state.topK &&
        sameRule(state.resultRequest.detection, request.detection) &&
        previous.loadId === model.loadId
      ) {
        set({
          result: { ...previous, labels: labels === 'auto' ? previous.labels : [], maps: [] },
          resultRequest: request,
          analysisStatus: 'done',
          runningRequest: null,
        });
        return;
      }
      set({ analysisStatus: 'busy', analyzeProgress: null, runningRequest: request });
      const outcome = await settle(
        signal,
        deps.engine.analyze(request, (progress) => {
          if (!signal.aborted) set({ analyzeProgress: progress });
        }),
      );
      const idle = { analyzeProgress: null, runningRequest: null };
      switch (outcome.kind) {
        case 'stale':
          return;
        case 'done': {
          const current = get();
          if (!current.model || outcome.value.loadId !== current.model.loadId) {
            // Computed for a model that is no longer the current one: a newer load re-runs the analysis.
            set({ analysisStatus: current.result ? 'done' : 'idle', ...idle });
          } else {
            set({ result: outcome.value, resultRequest: request, analysisStatus: 'done', ...idle });
            rememberQueuedResult(get, set, request, outcome.value);
          }
          break;
        }
        case 'cancelled':
          set({ analysisStatus: get().result ? 'done' : 'idle', ...idle });
          break;
        case 'failed':
          set({ analysisStatus: 'error', ...idle, lastError: toUiError(outcome.error, 'Computing heatmaps') });
          break;
      }
      void get().processQueue();
    },
    cancelAnalysis: async () => {
      if (get().analysisStatus !== 'busy') return;
      requests.analyze.abort(); // whatever the running request returns is stale now
      set({ analysisStatus: get().result ? 'done' : 'idle', analyzeProgress: null, runningRequest: null });
      await cancelRunning(deps.engine, (lastError) => set({ lastError }), 'Cancelling the analysis');
    },
    toggleLabel: async (label) => {
      const current = explainedLabels(get());
      const next = current.includes(label) ? current.filter((l) => l !== label) : [...current, label];
      await get().setSelectedLabels(next);
    },
    setSelectedLabels: async (labels) => {
      if (labels === 'auto') {
        set({ selectedLabels: 'auto' });
      } else {
        // Order the explained labels as the predictions list orders them; unlisted labels go last.
        const order = get().result?.predictions.map((p) => p.label) ?? [];
        const rank = (l: number): number => {
          const i = order.indexOf(l);
          return i < 0 ? order.length + l : i;
        };
        set({ selectedLabels: [...new Set(labels)].sort((a, b) => rank(a) - rank(b)) });
      }
      await get().analyze();
    },
    setDetection: async (rule) => {
      const state = get();
      if (sameRule(state.detection, rule)) return;
      // Choosing exactly the head's default is the same as following it (it then tracks model changes).
      const next = rule !== null && sameRule(rule, defaultDetectionRule(state.model?.headActivation ?? 'softmax')) ? null : rule;
      if (sameRule(state.detection, next)) return;
      set({ detection: next === null ? null : copyRule(next) });
      await get().analyze();
    },
    setMethodOptions: async (patch) => {
      const state = get();
      const next = mergeMethodOptions(state.methodOptions, patch);
      const changed = OPTION_FAMILIES.filter((family) => JSON.stringify(next[family]) !== JSON.stringify(state.methodOptions[family]));
      if (changed.length === 0) return;
      set({ methodOptions: next });
      // Re-analyse only when a chosen method reads a changed family (its descriptor says which).
      const chosen = new Set<string>(effectiveMethods(get()));
      if (METHOD_DESCRIPTORS.some((method) => chosen.has(method.id) && 'options' in method && changed.includes(method.options)))
        await get().analyze();
    },
    resetMethodOptions: async () => {
      await get().setMethodOptions(DEFAULT_METHOD_OPTIONS);
    },
  });
}
