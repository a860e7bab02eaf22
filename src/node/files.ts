/** Node-side model loading: reads a model folder from disk (the command line and the tests). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadClassifier, loadOnnxClassifier, type LoadedClassifier } from '../core/model/load';

/** An ArrayBuffer holding exactly a file's bytes (a Buffer may be a view into a larger pool). */
export function readArrayBuffer(path: string): ArrayBuffer {
  const buffer = readFileSync(path);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

export function readFloat32(path: string): Float32Array {
  return new Float32Array(readArrayBuffer(path));
}

/** The studio's default model as `npm run setup` installs it (the Keras ResNet50, ImageNet). */
export const DEFAULT_MODEL_DIR = join(import.meta.dirname, '..', '..', 'models', 'resnet50-imagenet');

/** `--model` when given, else the default model, refused with the fix when it is not installed. */
export function modelDirOrDefault(given: string | undefined): string {
  if (given !== undefined) return given;
  if (modelFileOf(DEFAULT_MODEL_DIR) === null)
    throw new Error(
      `no --model given, and the default model is not installed at ${DEFAULT_MODEL_DIR}: run npm run setup, or pass --model DIR`,
    );
  return DEFAULT_MODEL_DIR;
}

/**
 * Where a model is: `model.json` (TF.js) or `model.onnx` in a folder, or an `.onnx` file; null when neither
 * is there (the message says what was looked for).
 */
export function modelFileOf(path: string): { kind: 'tfjs' | 'onnx'; file: string } | null {
  if (/\.onnx$/i.test(path)) return existsSync(path) && statSync(path).isFile() ? { kind: 'onnx', file: path } : null;
  if (!existsSync(path) || !statSync(path).isDirectory()) return null;
  if (existsSync(join(path, 'model.json'))) return { kind: 'tfjs', file: join(path, 'model.json') };
  if (existsSync(join(path, 'model.onnx'))) return { kind: 'onnx', file: join(path, 'model.onnx') };
  return null;
}

/**
 * Loads a model from disk: a TF.js folder (model.json + shards), an ONNX folder (model.onnx) or an .onnx
 * file; metadata.json and a labels file are read from beside it in every case.
 */
export async function loadClassifierFromDirectory(path: string, options: { targetLayer?: string } = {}): Promise<LoadedClassifier> {
  const found = modelFileOf(path);
  if (found === null) throw new Error(`no model at ${path}: give a folder with model.json (TF.js) or model.onnx, or an .onnx file`);
  const directory = dirname(found.file);
  const read = async (fileName: string): Promise<ArrayBuffer | null> => {
    const sibling = join(directory, fileName);
    return existsSync(sibling) ? readArrayBuffer(sibling) : null;
  };
  if (found.kind === 'onnx') return loadOnnxClassifier(readArrayBuffer(found.file), read, options);
  return loadClassifier(readFileSync(found.file, 'utf8'), read, options);
}

/**
 * A LayersModel as TF.js layers files: model.json text (one weights group, `weights.bin`) and the bytes of
 * weights.bin. Nothing touches the disk; the caller writes them (training) or feeds them back (tests).
 */
export async function layersModelFiles(model: tf.LayersModel, generatedBy: string): Promise<{ modelJson: string; weights: ArrayBuffer }> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const artifacts = captured as unknown as tf.io.ModelArtifacts;
  const modelJson = JSON.stringify({
    format: 'layers-model',
    generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  });
  const data = artifacts.weightData;
  const weights = data instanceof ArrayBuffer ? data : tf.io.concatenateArrayBuffers(data as ArrayBuffer[]);
  return { modelJson, weights };
}
