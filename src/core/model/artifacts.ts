/**
 * Turning a TF.js LayersModel's files (model.json + .bin shards) into a model, with clear reasons when
 * they cannot be used. Shared by the worker (dropped files, URLs) and Node (files on disk): both collect
 * the bytes, this module checks and assembles them.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';

/** The parts of a TF.js model.json the studio reads. */
export interface LayersModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: object;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** A weight file the manifest refers to, by its base name (the name a dropped file has). */
export interface WeightFileNeed {
  path: string;
  fileName: string;
}

/** Parses model.json text. Throws `model-json-invalid` or `model-not-layers` (graph models). */
export function parseModelJson(text: string): LayersModelJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StudioError('model-json-invalid', `model.json is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StudioError('model-json-invalid', 'model.json does not hold a JSON object.');
  }
  const record = value as Record<string, unknown>;
  if (record['format'] === 'graph-model') {
    throw new StudioError(
      'model-not-layers',
      'This is a TF.js graph model (converted from a SavedModel). The studio loads LayersModels (converted from Keras .h5 / .keras); convert with `tensorflowjs_converter --input_format keras`.',
    );
  }
  const topology = record['modelTopology'];
  if (typeof topology !== 'object' || topology === null) {
    throw new StudioError('model-json-invalid', 'model.json has no "modelTopology": it is not a TF.js LayersModel.');
  }
  const manifest = record['weightsManifest'];
  if (!Array.isArray(manifest)) {
    throw new StudioError('model-json-invalid', 'model.json has no "weightsManifest" list: it is not a TF.js LayersModel.');
  }
  return value as LayersModelJson;
}

const baseName = (path: string): string => path.split('/').pop() ?? path;

/** The weight files model.json needs, in manifest order. */
export function weightFilesNeeded(modelJson: LayersModelJson): WeightFileNeed[] {
  return modelJson.weightsManifest.flatMap((group) => group.paths.map((path) => ({ path, fileName: baseName(path) })));
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const elements = spec.shape.reduce((product, size) => product * size, 1);
  return elements * (BYTES_PER_ELEMENT[dtype] ?? 4);
}

/**
 * Checks the weight files against the manifest and concatenates them into ModelArtifacts.
 * @param files weight file contents keyed by base file name (e.g. "group1-shard1of25.bin").
 * Throws `missing-shard` (naming every missing file) or `shard-size-mismatch`.
 */
export function assembleArtifacts(modelJson: LayersModelJson, files: ReadonlyMap<string, ArrayBuffer>): tf.io.ModelArtifacts {
  const missing = weightFilesNeeded(modelJson).filter((need) => !files.has(need.fileName));
  if (missing.length > 0) {
    const names = missing.map((need) => need.fileName);
    const shown = names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
    throw new StudioError(
      'missing-shard',
      `The model's weight file${names.length > 1 ? 's are' : ' is'} missing: ${shown}. Provide model.json together with all its .bin shards.`,
    );
  }
  const buffers: ArrayBuffer[] = [];
  for (const group of modelJson.weightsManifest) {
    const groupBuffers = group.paths.map((path) => files.get(baseName(path)) as ArrayBuffer);
    const actual = groupBuffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
    const expected = group.weights.reduce((sum, spec) => sum + weightBytes(spec), 0);
    if (actual !== expected) {
      throw new StudioError(
        'shard-size-mismatch',
        `The weight files ${group.paths.map(baseName).join(', ')} hold ${actual} bytes but model.json describes ${expected} bytes: ` +
          'a shard is truncated or belongs to another model.',
      );
    }
    buffers.push(...groupBuffers);
  }
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs: tf.io.getWeightSpecs(modelJson.weightsManifest),
    weightData: tf.io.concatenateArrayBuffers(buffers),
    ...(modelJson.format === undefined ? {} : { format: modelJson.format }),
    ...(modelJson.generatedBy === undefined ? {} : { generatedBy: modelJson.generatedBy }),
    ...(modelJson.convertedBy === undefined || modelJson.convertedBy === null ? {} : { convertedBy: modelJson.convertedBy }),
  };
}

/**
 * Builds the LayersModel. TF.js errors are translated: unknown layer classes become `unsupported-layer`,
 * anything else `model-build-failed`, each with the original detail.
 */
export async function buildLayersModel(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const unknownLayer = /Unknown layer: (\w+)/.exec(detail);
    if (unknownLayer) {
      throw new StudioError(
        'unsupported-layer',
        `The model uses the layer class "${unknownLayer[1]}", which TF.js does not support. Replace it (or register it as a custom layer) before converting.`,
      );
    }
    throw new StudioError('model-build-failed', `TF.js could not build the model: ${detail}`);
  }
}
