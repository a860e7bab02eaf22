/**
 * Writes a trained shapes model as TF.js layers files (model.json + one weights.bin) and the metadata.json
 * the studio reads (src/shared/model-metadata.ts: name, description, preprocessing, resize, labels,
 * targetLayer; the extra `head`, `training` and `scores` objects are ignored by the studio and document the
 * run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHAPE_CLASSES } from '../data/shapes';
import { TARGET_LAYER } from './shapes-model';
import type { TrainingResult } from './train';
import { layersModelFiles } from '../node/files';

export const MODEL_NAMES = {
  plain: 'Shapes ResNet (multi-label, sigmoid)',
  kur: 'Shapes ResNet + KUR head (multi-label, sigmoid)',
} as const;

/** The name of the split-attention model (arch 'resnest'), with ' + KUR head' for that variant. */
export const RESNEST_MODEL_NAME = 'Shapes ResNeSt (split attention, multi-label, sigmoid)';

/** The metadata.json object of a training result. */
export function trainingMetadata(result: TrainingResult, extra: { command: string; dataSeconds?: number }): Record<string, unknown> {
  const { config } = result;
  const kur = config.variant === 'kur';
  const resnest = config.model.arch === 'resnest';
  return {
    name: resnest
      ? kur
        ? RESNEST_MODEL_NAME.replace(', multi-label', ' + KUR head, multi-label')
        : RESNEST_MODEL_NAME
      : MODEL_NAMES[config.variant],
    description: resnest
      ? `Small ResNeSt (split attention: radix ${config.model.radix}, cardinality 1, avd and average-down shortcuts; src/train/shapes-model.ts) trained on the synthetic shape scenes (8 classes, multi-label): GAP -> Dense(8, sigmoid)${kur ? ', KUR head baked into the kernel' : ''}. Uses the layers GroupedConv2D, RadixSum, RadixSoftmax and RadixWeightedSum (src/core/model/split-attention-layers.ts).`
      : kur
        ? `Small ResNet trained on the synthetic shape scenes (8 classes, multi-label) with the kernel-usage-regularised head: logits = GAP(A) W~ + b, W~ = alpha * softmax_over_labels(W - max_over_labels(W)) * W, alpha = ${config.alpha}. W~ is baked into the Dense 'predictions' kernel, so CAMs use W~.`
        : 'Small ResNet trained on the synthetic shape scenes (8 classes, multi-label): GAP -> Dense(8, sigmoid), the head CAM and MinMax-CAM assume.',
    preprocessing: 'unit',
    resize: 'squash',
    labels: [...SHAPE_CLASSES],
    targetLayer: TARGET_LAYER,
    head: kur
      ? {
          kind: 'kur',
          alpha: config.alpha,
          formula: 'W~ = alpha * softmax_over_labels(W - max_over_labels(W)) * W (elementwise; W: [features, labels])',
          baked:
            "The saved Dense 'predictions' kernel is W~ (computed once from the trained W after training): the network computes exactly the trained function with a plain Dense(8, sigmoid) layer.",
          rawKernel: result.finalKernel.raw,
        }
      : { kind: 'plain', formula: 'logits = GAP(A) W + b' },
    training: {
      command: extra.command,
      backend: result.backend,
      ...(result.trainer === undefined ? {} : { trainer: result.trainer }),
      data: {
        generator: 'src/data/shapes (generateScene, deterministic)',
        size: config.model.inputSize,
        train: config.freshTrainScenes
          ? {
              split: 'train',
              indices: [0, config.maxSteps * config.batchSize],
              seeds: [0, config.maxSteps * config.batchSize - 1],
              drawn: 'fresh: step s uses indices s*B .. s*B + B - 1, each scene once',
            }
          : {
              split: 'train',
              indices: [0, config.trainScenes],
              seeds: [0, config.trainScenes - 1],
              drawn: 'fixed set, reshuffled every epoch',
            },
        validation: {
          split: 'validation',
          indices: [0, config.validationScenes],
          seeds: [1_000_000, 1_000_000 + config.validationScenes - 1],
        },
        test: { split: 'test', indices: [0, config.testScenes], seeds: [2_000_000, 2_000_000 + config.testScenes - 1] },
        generationSeconds: extra.dataSeconds,
      },
      architecture: { ...config.model, targetLayer: TARGET_LAYER, parameters: result.model.countParams() },
      config,
      steps: result.steps,
      epochs: result.epochs,
      stoppedBecause: result.stoppedBecause,
      trainSeconds: result.trainSeconds,
      meanStepMs: result.meanStepMs,
      profile: result.profile,
      history: result.history,
    },
    scores: { threshold: config.threshold, validation: result.validation, test: result.test },
  };
}

/** Writes model.json, weights.bin and metadata.json into `directory` (created if needed). */
export async function saveTrainedModel(
  result: TrainingResult,
  directory: string,
  extra: { command: string; dataSeconds?: number },
): Promise<{ bytes: number }> {
  mkdirSync(directory, { recursive: true });
  const { modelJson, weights } = await layersModelFiles(result.model, 'cam-studio src/train (npm run train:shapes)');
  writeFileSync(join(directory, 'model.json'), modelJson);
  writeFileSync(join(directory, 'weights.bin'), new Uint8Array(weights));
  writeFileSync(join(directory, 'metadata.json'), `${JSON.stringify(trainingMetadata(result, extra), null, 1)}\n`);
  return { bytes: weights.byteLength + modelJson.length };
}
