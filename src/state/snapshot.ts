/**
 * A plain, JSON-safe snapshot of the store for `window.__camStudio.getState()` (read by the e2e tests):
 * no ImageBitmaps, no typed arrays, no functions.
 */
import type { BackendReport, DetectionRule, MethodOptions, ModelSummary, Prediction } from '../shared/protocol';
import { effectiveDetection, metricsStale } from './selectors';
import type { StudioState } from './types';

export interface MapSnapshot {
  method: string;
  label: number;
  shape: [number, number];
  normalized: number[];
  rawMin: number;
  rawMax: number;
  displayShape: [number, number];
  resolution: string;
  extras: Record<string, number>;
}

export interface StudioSnapshot {
  backend: BackendReport | null;
  requestedBackend: string;
  model: ModelSummary | null;
  modelName: string | null;
  image: {
    name: string | null;
    originalWidth: number;
    originalHeight: number;
    crop: { x: number; y: number; width: number; height: number };
    resizePolicy: string;
    policyDescription: string;
    displayWidth: number;
    displayHeight: number;
  } | null;
  predictions: Prediction[];
  /** The labels explained in the current result. */
  labels: number[];
  /** The detected set C_x and its rule (from the last result). */
  detected: number[];
  detectionRule: string | null;
  /** The detected-set rule the next analysis uses (the user's choice, else the head's default). */
  detection: DetectionRule;
  /** True when the rule is the user's choice (not the head's default). */
  detectionChosen: boolean;
  methodOptions: MethodOptions;
  gridTransposed: boolean;
  /** The label choice: 'auto' or the user's list. */
  selectedLabels: number[] | 'auto';
  methods: string[];
  topK: number;
  colormap: string;
  opacity: number;
  maps: MapSnapshot[];
  timingsMs: { forward: number; total: number; methods: Record<string, number> } | null;
  forwardReused: boolean | null;
  jobId: number | null;
  loadProgress: { loadedBytes: number; totalBytes: number; stage: string } | null;
  analyzeProgress: { jobId: number; method: string; done: number; total: number } | null;
  status: {
    backend: string;
    model: string;
    image: string;
    analysis: string;
    catalog: string;
    configuring: boolean;
    modelLoadFailed: boolean;
  };
  /** Faithfulness metrics of the current image, when computed (scores are fractions, per method and label). */
  metrics: {
    status: string;
    backend: string | null;
    detected: number[];
    scores: Record<string, Record<string, Record<string, number | null>>>;
    curves: Record<string, Record<string, { deletionAuc: number; insertionAuc: number }>>;
    stale: boolean;
  };
  batch: {
    status: string;
    total: number;
    next: number;
    records: number;
    failures: number;
    recordNames: string[];
    failureMessages: string[];
    interrupted: { modelName: string; done: number; total: number } | null;
  };
  /** How the shown maps were made, when worth saying (AnalyzeResult.notes). */
  resultNotes: string[];
  lastError: string | null;
  lastErrorCode: string | null;
}

export function snapshotState(state: StudioState): StudioSnapshot {
  const { result, image } = state;
  const methods: Record<string, number> = {};
  if (result) for (const [k, v] of Object.entries(result.timingsMs.methods)) if (typeof v === 'number') methods[k] = v;
  return {
    backend: state.backend ? structuredCloneSafe(state.backend) : null,
    requestedBackend: state.requestedBackend,
    model: state.model ? structuredCloneSafe(state.model) : null,
    modelName: state.model?.name ?? null,
    image: image
      ? {
          name: state.imageName,
          originalWidth: image.originalWidth,
          originalHeight: image.originalHeight,
          crop: { ...image.crop },
          resizePolicy: image.resizePolicy,
          policyDescription: image.policyDescription,
          displayWidth: image.display.width,
          displayHeight: image.display.height,
        }
      : null,
    predictions: result ? result.predictions.map((p) => ({ ...p })) : [],
    labels: result ? [...result.labels] : [],
    detected: result ? [...result.detected] : [],
    detectionRule: result ? result.detectionRule : null,
    detection: structuredCloneSafe(effectiveDetection(state)),
    detectionChosen: state.detection !== null,
    methodOptions: structuredCloneSafe(state.methodOptions),
    gridTransposed: state.gridTransposed,
    selectedLabels: state.selectedLabels === 'auto' ? 'auto' : [...state.selectedLabels],
    methods: [...state.methods],
    topK: state.topK,
    colormap: state.colormap,
    opacity: state.opacity,
    maps: result
      ? result.maps.map((m) => ({
          method: m.method,
          label: m.label,
          shape: [m.shape[0], m.shape[1]],
          normalized: Array.from(m.normalized),
          rawMin: m.rawMin,
          rawMax: m.rawMax,
          displayShape: [m.displayShape[0], m.displayShape[1]],
          resolution: m.resolution,
          extras: { ...m.extras },
        }))
      : [],
    timingsMs: result ? { forward: result.timingsMs.forward, total: result.timingsMs.total, methods } : null,
    forwardReused: result ? result.forwardReused : null,
    jobId: result ? result.jobId : null,
    loadProgress: state.loadProgress ? { ...state.loadProgress } : null,
    analyzeProgress: state.analyzeProgress ? { ...state.analyzeProgress } : null,
    status: {
      backend: state.backendStatus,
      model: state.modelStatus,
      image: state.imageStatus,
      analysis: state.analysisStatus,
      catalog: state.catalogStatus,
      configuring: state.configuring,
      modelLoadFailed: state.modelLoadFailed,
    },
    metrics: {
      status: state.metricsStatus,
      backend: state.metrics?.backend ?? null,
      detected: state.metrics ? [...state.metrics.evaluation.detected] : [],
      scores: state.metrics
        ? (structuredCloneSafe(state.metrics.evaluation.scores) as unknown as Record<string, Record<string, Record<string, number | null>>>)
        : {},
      curves: Object.fromEntries(
        Object.entries(state.metrics?.evaluation.curves ?? {}).map(([method, perLabel]) => [
          method,
          Object.fromEntries(
            Object.entries(perLabel).map(([label, curve]) => [label, { deletionAuc: curve.deletionAuc, insertionAuc: curve.insertionAuc }]),
          ),
        ]),
      ),
      stale: metricsStale(state),
    },
    batch: {
      status: state.batchStatus,
      total: state.batchFiles.length,
      next: state.batchNext,
      records: state.batchRecords.length,
      failures: state.batchFailures.length,
      recordNames: state.batchRecords.map((record) => record.name),
      failureMessages: state.batchFailures.map((failure) => `${failure.name}: ${failure.message}`),
      interrupted:
        state.interruptedBatch === null
          ? null
          : { modelName: state.interruptedBatch.modelName, done: state.interruptedBatch.done, total: state.interruptedBatch.total },
    },
    resultNotes: state.result?.notes ?? [],
    lastError: state.lastError ? state.lastError.message : null,
    lastErrorCode: state.lastError ? state.lastError.code : null,
  };
}

/** Deep copy through JSON: the summaries are plain data. */
function structuredCloneSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
