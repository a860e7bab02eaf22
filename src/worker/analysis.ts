/**
 * What the engine answers beyond the pipeline's plain maps: an analysis result as the UI draws it (class
 * names, the rule described, timings), and the settings of a metrics request.
 */
import * as tf from '@tensorflow/tfjs';
import { describeDetectionRule } from '../shared/detection';
import type { AnalyzeProgress, AnalyzeRequest, AnalyzeResult, BackendName, MetricsRequest } from '../shared/protocol';
import type { EvaluationSettings } from '../core/metrics/evaluate';
import type { Classifier } from '../core/model/classifier';
import { detectionRuleFor, explainImage, type ImagePass } from '../core/pipeline';
import { labelName, type CurrentModel } from './current';
import type { Checkpoint } from './jobs';

/** The backend that actually runs. */
export const currentBackend = (): BackendName => tf.getBackend() as BackendName;

/** The evaluation settings of a metrics request (pointing tolerance: 15 px on a ~500-px image, scaled). */
export function evaluationSettings(adapter: Classifier, request: MetricsRequest, memoryBudgetBytes: number): EvaluationSettings {
  const [height, width] = adapter.inputShape;
  return {
    memoryBudgetBytes,
    methods: request.methods,
    detection: detectionRuleFor(adapter, request.detection),
    batchSize: request.batchSize ?? 16,
    pointingTolerance: Math.max(1, Math.round((15 * Math.max(height, width)) / 500)),
    backgroundThreshold: 0.25,
    curveSteps: request.curveSteps,
    ...(request.options === undefined ? {} : { options: request.options }),
  };
}

/** The maps and predictions of a pass for an analysis request, as the UI draws them. */
export async function analysisResult(
  jobId: number,
  model: CurrentModel,
  pass: ImagePass,
  request: AnalyzeRequest,
  checkpoint: Checkpoint,
  timing: { started: number; reused: boolean; forwardMs: number; memoryBudgetBytes: number },
  onProgress?: (progress: AnalyzeProgress) => void,
): Promise<AnalyzeResult> {
  checkpoint();
  const explained = await explainImage(model.loaded.adapter, pass, {
    labels: request.labels === 'auto' ? 'auto' : request.labels,
    methods: request.methods,
    topK: request.topK,
    displaySize: request.displaySize,
    memoryBudgetBytes: timing.memoryBudgetBytes,
    checkpoint,
    onProgress: (method, done, total) => onProgress?.({ jobId, method, done, total }),
    ...(request.detection === undefined ? {} : { detection: request.detection }),
    ...(request.options === undefined ? {} : { options: request.options }),
    ...(request.meta === undefined ? {} : { meta: request.meta }),
  });
  return {
    jobId,
    loadId: model.loadId,
    backend: currentBackend(),
    predictions: explained.predictions.map((ranked) => ({ ...ranked, name: labelName(model, ranked.label) })),
    labels: explained.labels,
    detected: explained.detected,
    detectionRule: describeDetectionRule(explained.rule),
    maps: explained.maps.map((map) => ({
      method: map.method,
      label: map.label,
      resolution: map.resolution,
      shape: map.shape,
      normalized: map.normalized,
      rawMin: map.rawMin,
      rawMax: map.rawMax,
      display: map.display!,
      displayShape: request.displaySize,
      extras: map.extras,
    })),
    notes: explained.notes,
    timingsMs: { forward: timing.forwardMs, total: performance.now() - timing.started, methods: explained.methodMs },
    forwardReused: timing.reused,
  };
}
