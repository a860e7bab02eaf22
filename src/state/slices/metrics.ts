/** Faithfulness metrics of the current image (issue #5), computed on demand in the worker. */
import { optionsForRequest } from '../../shared/options';
import { CURVE_STEPS } from '../constants';
import { toUiError } from '../errors';
import { cancelRunning, settle, type StoreRequests } from '../latest';
import { effectiveMethods } from '../selectors';
import type { MetricsSlice, Slice, StudioDeps } from '../types';

export function metricsSlice(deps: StudioDeps, requests: StoreRequests): Slice<MetricsSlice> {
  return (set, get) => ({
    metrics: null,
    metricsFor: null,
    metricsStatus: 'idle',
    metricsProgress: null,
    highlightedMethod: null,
    setHighlightedMethod: (method) => set({ highlightedMethod: method }),
    computeMetrics: async () => {
      const state = get();
      const { model, image } = state;
      if (!model || !image) return;
      const methods = effectiveMethods(state);
      if (methods.length === 0) return;
      const signal = requests.metrics.begin();
      const options = optionsForRequest(state.methodOptions);
      set({ metricsStatus: 'busy', metricsProgress: null });
      const request = {
        methods,
        curveSteps: CURVE_STEPS,
        ...(state.detection === null ? {} : { detection: state.detection }),
        ...(options === undefined ? {} : { options }),
      };
      const outcome = await settle(
        signal,
        deps.engine.evaluateMetrics(request, (progress) => {
          if (!signal.aborted) set({ metricsProgress: progress });
        }),
      );
      switch (outcome.kind) {
        case 'stale':
          return;
        case 'done':
          set({
            metrics: outcome.value,
            metricsFor: { image, loadId: model.loadId, methods },
            metricsStatus: 'done',
            metricsProgress: null,
          });
          return;
        case 'cancelled':
          set({ metricsStatus: get().metrics ? 'done' : 'idle', metricsProgress: null });
          return;
        case 'failed':
          set({ metricsStatus: 'error', metricsProgress: null, lastError: toUiError(outcome.error, 'Computing faithfulness metrics') });
      }
    },
    cancelMetrics: async () => {
      if (get().metricsStatus !== 'busy') return;
      requests.metrics.abort();
      set({ metricsStatus: get().metrics ? 'done' : 'idle', metricsProgress: null });
      await cancelRunning(deps.engine, (lastError) => set({ lastError }), 'Cancelling the metrics');
    },
  });
}
