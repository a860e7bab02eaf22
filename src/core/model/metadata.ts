/**
 * Model metadata: the optional `metadata.json` the studio reads beside a model's model.json.
 *
 * ```json
 * { "name": "ResNet50", "preprocessing": "caffe", "resize": "squash",
 *   "labels": "labels.json", "targetLayer": "activation_48" }
 * ```
 * `labels` is a file name beside model.json or an inline list. Every field is optional.
 */

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
  'squash': 'the whole image resized to the input size (aspect ratio not kept), as Keras load_img does',
  'center-crop': 'the shorter side resized to the input size, then the centre cropped',
};

/** The structure that follows the target layer. */
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

/** Reads a metadata object leniently: unknown or malformed fields are dropped, with a note each. */
export function parseModelMetadata(value: unknown): { metadata: ModelMetadata; notes: string[] } {
  const notes: string[] = [];
  const metadata: ModelMetadata = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { metadata, notes: ['metadata.json is not a JSON object: ignored'] };
  }
  const record = value as Record<string, unknown>;
  if (typeof record['name'] === 'string') metadata.name = record['name'];
  if (typeof record['description'] === 'string') metadata.description = record['description'];
  const preprocessing = record['preprocessing'];
  if (preprocessing !== undefined) {
    if (typeof preprocessing === 'string' && (PREPROCESSING_IDS as readonly string[]).includes(preprocessing)) {
      metadata.preprocessing = preprocessing as PreprocessingId;
    } else {
      notes.push(`metadata.json: unknown preprocessing ${JSON.stringify(preprocessing)} (expected one of ${PREPROCESSING_IDS.join(', ')})`);
    }
  }
  const resize = record['resize'];
  if (resize === 'squash' || resize === 'center-crop') metadata.resize = resize;
  else if (resize !== undefined) notes.push(`metadata.json: unknown resize ${JSON.stringify(resize)}`);
  const labels = record['labels'];
  if (typeof labels === 'string') metadata.labels = labels;
  else if (Array.isArray(labels) && labels.every((item) => typeof item === 'string')) metadata.labels = labels as string[];
  if (typeof record['targetLayer'] === 'string') metadata.targetLayer = record['targetLayer'];
  return { metadata, notes };
}
