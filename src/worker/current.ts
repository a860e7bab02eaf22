/**
 * What the engine holds between calls: the loaded model (with the user's choices of preprocessing and
 * resize policy) and the current image, and how each is described to the UI thread.
 */
import type * as tf from '@tensorflow/tfjs';
import { METHOD_DESCRIPTORS } from '../shared/methods';
import type { PreprocessingId, ResizePolicy } from '../shared/model-metadata';
import type { ImageSummary, ModelSource, ModelSummary } from '../shared/protocol';
import { methodAvailability } from '../core/methods/types';
import type { LoadedClassifier } from '../core/model/load';
import { cropFor } from '../shared/model-input';
import { describePolicy, displayBitmap, pixelsForModel } from './image';

export interface CurrentModel {
  loaded: LoadedClassifier;
  source: ModelSource;
  sourceDescription: string;
  name: string;
  loadId: number;
  preprocessing: PreprocessingId;
  preprocessingSource: ModelSummary['preprocessingSource'];
  resizePolicy: ResizePolicy;
}

export interface CurrentImage {
  bitmap: ImageBitmap;
  imageId: number;
  /** `[width, height]` of the file when decoded scaled down. */
  scaledFrom?: [number, number];
}

/** The bitmap fitted to the model's input by its resize policy: RGB `[1, H, W, 3]` in [0, 255], the caller's. */
export function modelPixels(model: CurrentModel, bitmap: ImageBitmap): tf.Tensor4D {
  const [height, width] = model.loaded.adapter.inputShape;
  return pixelsForModel(bitmap, cropFor(bitmap.width, bitmap.height, model.resizePolicy, [height, width]), [height, width]);
}

/** The class name of a label (from labels.json / metadata.json, else "class N"). */
export function labelName(model: CurrentModel, label: number): string {
  return model.loaded.labelNames[label] ?? `class ${label}`;
}

export function modelSummary(model: CurrentModel): ModelSummary {
  const adapter = model.loaded.adapter;
  return {
    loadId: model.loadId,
    name: model.name,
    source: model.sourceDescription,
    format: model.loaded.format,
    inputShape: adapter.inputShape,
    numClasses: adapter.numClasses,
    labelNames: Array.from({ length: adapter.numClasses }, (_, k) => labelName(model, k)),
    numParameters: adapter.numParameters,
    targetLayer: adapter.targetLayer,
    targetLayerCandidates: adapter.candidates,
    headKind: adapter.headKind,
    headActivation: adapter.headActivation,
    preprocessing: model.preprocessing,
    preprocessingSource: model.preprocessingSource,
    resizePolicy: model.resizePolicy,
    labelsSource: model.loaded.labelsSource,
    methods: METHOD_DESCRIPTORS.map((method) => {
      const availability = methodAvailability(method, adapter);
      return {
        id: method.id,
        title: method.title,
        available: availability.available,
        ...(availability.reason === undefined ? {} : { reason: availability.reason }),
      };
    }),
    notes: model.loaded.notes,
  };
}

/** Describes an image under a model's policy (call again after a policy change); no model: squash to 224. */
export async function imageSummary(image: CurrentImage, model: CurrentModel | null): Promise<ImageSummary> {
  const policy = model?.resizePolicy ?? 'squash';
  const { width, height } = image.bitmap;
  const input = model?.loaded.adapter.inputShape ?? [224, 224, 3];
  const crop = cropFor(width, height, policy, [input[0], input[1]]);
  const display = await displayBitmap(image.bitmap, crop);
  const scaled = image.scaledFrom === undefined ? '' : `Decoded at ${width}x${height} from ${image.scaledFrom[0]}x${image.scaledFrom[1]}; `;
  return {
    originalWidth: width,
    originalHeight: height,
    crop,
    resizePolicy: policy,
    policyDescription: scaled + describePolicy(policy, crop, [width, height], [input[0], input[1]]),
    display,
    ...(image.scaledFrom === undefined ? {} : { scaledFrom: image.scaledFrom }),
  };
}
