/**
 * Batch evaluation of explanation methods, one image at a time (the same code in the studio's worker and
 * in `npm run evaluate`): the image's detected set is explained with every chosen method, each map is
 * scored with the faithfulness metrics (faithfulness.ts) and, when a ground-truth mask is given, with the
 * pointing game and a segmentation prior (localisation.ts). Each image gives a plain, JSON-serialisable
 * {@link ImageEvaluation}, so an interrupted run resumes from the records it kept, and the report is
 * always recomputed from records ({@link aggregateEvaluations}): same inputs, same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { yieldToEventLoop } from '../batching';
import type { DetectionRule } from '../../shared/detection';
import { disposeMethodMaps, type MethodMaps } from '../methods/explain';
import { detectedOf, explainPass, scoresOf, type ImagePass } from '../pipeline';
import type { MethodOptions } from '../../shared/options';
import type { MethodId } from '../../shared/methods';
import { upsampleMaps } from '../maps/filters';
import type { Classifier, ForwardPass } from '../model/classifier';
import { maskedProbabilities, saliencyCurves } from './faithfulness';
import { detectionScores, type DetectionScores, type SaliencyCurves } from '../../shared/metrics/scores';
import {
  ConfusionMatrix,
  classesInMask,
  pointingGameHit,
  segmentationFromMaps,
  type SegmentationMask,
} from '../../shared/metrics/localisation';
import type { ImageEvaluation } from '../../shared/metrics/report';

export interface EvaluationSettings {
  methods: readonly MethodId[];
  detection: DetectionRule;
  /** Masked inputs per forward batch (at most: core/batching.ts may use fewer). */
  batchSize: number;
  /** Bytes the tensors of one batch of masked inputs may hold (default: core/batching.ts). */
  memoryBudgetBytes?: number;
  /** Pointing-game tolerance in input pixels. */
  pointingTolerance: number;
  /** Background threshold of the segmentation priors. */
  backgroundThreshold: number;
  options?: Partial<MethodOptions>;
  /** Steps of the deletion / insertion curves of every detected label (0 or absent: no curves). */
  curveSteps?: number;
}

/**
 * Evaluates one preprocessed image `[1, H, W, C]` (not disposed). `mask`, if given, is already fitted to the
 * input size (localisation.ts `fitMask`); its classes are explained too (for localisation) when the model did
 * not detect them. `checkpoint` may throw to cancel (nothing leaks).
 */
export async function evaluateImage(
  classifier: Classifier,
  input: tf.Tensor4D,
  name: string,
  settings: EvaluationSettings,
  extras: {
    mask?: SegmentationMask;
    checkpoint?: () => void;
    onProgress?: (stage: string, done: number, total: number) => void;
    /** The input's forward pass when the caller has it already (then not recomputed, and not disposed here). */
    forward?: ForwardPass;
  } = {},
): Promise<ImageEvaluation> {
  const started = performance.now();
  const [, height, width] = input.shape;
  const labels = classifier.numClasses;
  const forward = extras.forward ?? classifier.forward(input);
  let results: MethodMaps[] = [];
  try {
    const pass: ImagePass = { input, forward, ...(await scoresOf(classifier, forward)), forwardMs: 0 };
    const probabilities = pass.probs;
    const detected = detectedOf(pass, settings.detection);
    const classes = extras.mask === undefined ? [] : classesInMask(extras.mask, labels);
    const explained = [...new Set([...detected, ...classes])].sort((a, b) => a - b);
    const evaluation: ImageEvaluation = { name, probabilities: Array.from(probabilities), detected, scores: {}, ms: 0 };
    ({ results } = await explainPass(classifier, pass, {
      labels: explained,
      methods: settings.methods,
      detection: settings.detection,
      ...(settings.options === undefined ? {} : { options: settings.options }),
      ...(settings.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: settings.memoryBudgetBytes }),
      ...(extras.checkpoint === undefined ? {} : { checkpoint: extras.checkpoint }),
    }));
    const notes = new Set(results.flatMap((result) => result.notes));
    if (classes.length > 0) evaluation.localisation = { classes, perMethod: {} };
    for (const [m, result] of results.entries()) {
      await yieldToEventLoop();
      extras.checkpoint?.();
      const maps =
        result.normalized.shape[1] === height && result.normalized.shape[2] === width
          ? tf.clone(result.normalized)
          : upsampleMaps(result.normalized, [height, width]);
      try {
        const perLabel: Record<string, DetectionScores> = {};
        if (detected.length > 0) {
          const rows = detected.map((label) => explained.indexOf(label));
          const detectedMaps = tf.tidy(() => tf.gather(maps, rows));
          let masked;
          try {
            masked = await maskedProbabilities(classifier, input, detectedMaps, {
              batchSize: settings.batchSize,
              ...(settings.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: settings.memoryBudgetBytes }),
              ...(extras.checkpoint === undefined ? {} : { checkpoint: extras.checkpoint }),
            });
            if (masked.note !== undefined) notes.add(masked.note);
          } finally {
            detectedMaps.dispose();
          }
          detected.forEach((label, i) => {
            perLabel[String(label)] = detectionScores(
              probabilities,
              masked.kept.subarray(i * labels, (i + 1) * labels),
              masked.removed.subarray(i * labels, (i + 1) * labels),
              label,
              detected,
            );
          });
        }
        evaluation.scores[result.method] = perLabel;
        if ((settings.curveSteps ?? 0) > 0 && detected.length > 0) {
          const perLabelCurves: Record<string, SaliencyCurves> = {};
          for (const label of detected) {
            await yieldToEventLoop();
            extras.checkpoint?.();
            const map = tf.tidy(() => tf.squeeze(tf.slice(maps, [explained.indexOf(label), 0, 0], [1, height, width]), [0]) as tf.Tensor2D);
            try {
              perLabelCurves[String(label)] = await saliencyCurves(classifier, input, map, label, {
                steps: settings.curveSteps ?? 0,
                batchSize: settings.batchSize,
                ...(extras.checkpoint === undefined ? {} : { checkpoint: extras.checkpoint }),
              });
            } finally {
              map.dispose();
            }
          }
          (evaluation.curves ??= {})[result.method] = perLabelCurves;
        }
        if (evaluation.localisation !== undefined && extras.mask !== undefined) {
          const data = await maps.data();
          const pixels = height * width;
          const classMaps = classes.map((label) =>
            data.subarray(explained.indexOf(label) * pixels, (explained.indexOf(label) + 1) * pixels),
          );
          const hits: Record<string, boolean> = {};
          classes.forEach((label, i) => {
            hits[String(label)] = pointingGameHit(classMaps[i]!, extras.mask!, label, settings.pointingTolerance);
          });
          const confusion = new ConfusionMatrix(labels + 1);
          confusion.add(extras.mask.data, segmentationFromMaps(classMaps, classes, pixels, settings.backgroundThreshold));
          evaluation.localisation.perMethod[result.method] = { hits, confusion: Array.from(confusion.counts) };
        }
      } finally {
        maps.dispose();
      }
      extras.onProgress?.('methods', m + 1, results.length);
    }
    if (notes.size > 0) evaluation.notes = [...notes];
    evaluation.ms = performance.now() - started;
    return evaluation;
  } finally {
    results.forEach(disposeMethodMaps);
    if (extras.forward === undefined) tf.dispose([forward.activations, forward.logits]);
  }
}
