/**
 * Model metadata: the optional `metadata.json` the studio reads beside a model's model.json.
 *
 * ```json
 * { "name": "ResNet50", "preprocessing": "caffe", "resize": "squash",
 *   "labels": "labels.json", "targetLayer": "activation_48" }
 * ```
 * `labels` is a file name beside model.json or an inline list. Every field is optional.
 */

import * as v from 'valibot';
import { choiceField, showValue, tryParse } from './schema';

/** Pixel preprocessing presets, applied to RGB values in [0, 255]. */
export type PreprocessingId = 'caffe' | 'tf' | 'torch' | 'unit';

export const PREPROCESSING_IDS: readonly PreprocessingId[] = ['caffe', 'tf', 'torch', 'unit'];

export const PREPROCESSING_DESCRIPTIONS: Record<PreprocessingId, string> = {
  caffe: 'Keras "caffe": RGB->BGR, minus ImageNet mean [103.939, 116.779, 123.68], no scaling',
  tf: 'Keras "tf": scaled to [-1, 1]',
  torch: 'torchvision: [0, 1], minus mean [0.485, 0.456, 0.406], divided by std [0.229, 0.224, 0.225]',
  unit: 'scaled to [0, 1]',
};

/** How an image of any size becomes the model's square input. */
export type ResizePolicy = 'squash' | 'center-crop';

export const RESIZE_POLICY_DESCRIPTIONS: Record<ResizePolicy, string> = {
  squash: 'the whole image resized to the input size (aspect ratio not kept), as Keras load_img does',
  'center-crop': 'the shorter side resized to the input size, then the centre cropped',
};

/** The structure that follows the target layer. */
/** What a model was loaded from: a TF.js layers model, a TF.js graph model, an ONNX file. */
export type ModelFormat = 'tfjs-layers' | 'tfjs-graph' | 'onnx';

export const MODEL_FORMAT_TEXT: Record<ModelFormat, string> = {
  'tfjs-layers': 'TF.js layers model',
  'tfjs-graph': 'TF.js graph model',
  onnx: 'ONNX',
};

export type HeadKind = 'gap-dense' | 'generic';
/** The activation the head applies to the logits. */
export type HeadActivation = 'softmax' | 'sigmoid' | 'linear';

export interface ModelMetadata {
  name?: string;
  description?: string;
  preprocessing?: PreprocessingId;
  resize?: ResizePolicy;
  labels?: string | string[];
  targetLayer?: string;
}

export const RESIZE_POLICIES: readonly ResizePolicy[] = ['squash', 'center-crop'];

export const PREPROCESSING = choiceField(PREPROCESSING_IDS);
export const RESIZE_POLICY = choiceField(RESIZE_POLICIES);

/** Each field of metadata.json with its schema (every field is optional). */
const METADATA_FIELDS = {
  name: v.string('a string'),
  description: v.string('a string'),
  preprocessing: PREPROCESSING.schema,
  resize: RESIZE_POLICY.schema,
  labels: v.union([v.string(), v.array(v.string())], 'a file name beside model.json, or a list of class names'),
  targetLayer: v.string('a layer or node name'),
} as const;

/** metadata.json as a whole, strictly (every field valid; unknown fields allowed). */
export const ModelMetadataSchema = v.object(
  Object.fromEntries(Object.entries(METADATA_FIELDS).map(([key, schema]) => [key, v.optional(schema)])),
) as unknown as v.GenericSchema<unknown, ModelMetadata>;

/**
 * Reads a metadata object leniently: a field that does not fit its schema is dropped with a note naming the
 * field, the value and what is allowed; unknown fields are ignored.
 */
export function parseModelMetadata(value: unknown): { metadata: ModelMetadata; notes: string[] } {
  const notes: string[] = [];
  const metadata: Record<string, unknown> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { metadata, notes: ['metadata.json: it is not a JSON object'] };
  }
  const record = value as Record<string, unknown>;
  for (const [key, schema] of Object.entries(METADATA_FIELDS)) {
    if (record[key] === undefined) continue;
    const parsed = tryParse(schema as v.GenericSchema, record[key]);
    if (parsed.ok) metadata[key] = parsed.value;
    else
      notes.push(
        `metadata.json: ${key} is ${showValue(record[key])}: allowed is ${(schema as { message?: unknown }).message ?? 'another value'}`,
      );
  }
  return { metadata: metadata as ModelMetadata, notes };
}
