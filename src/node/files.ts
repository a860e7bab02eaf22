/** Node-side model loading: reads a model folder from disk (the command line and the tests). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadClassifier, type LoadedClassifier } from '../core/model/load';

/** An ArrayBuffer holding exactly a file's bytes (a Buffer may be a view into a larger pool). */
export function readArrayBuffer(path: string): ArrayBuffer {
  const buffer = readFileSync(path);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

export function readFloat32(path: string): Float32Array {
  return new Float32Array(readArrayBuffer(path));
}

export async function loadClassifierFromDirectory(directory: string, options: { targetLayer?: string } = {}): Promise<LoadedClassifier> {
  const modelJsonText = readFileSync(join(directory, 'model.json'), 'utf8');
  return loadClassifier(
    modelJsonText,
    async (fileName) => {
      const path = join(directory, fileName);
      return existsSync(path) ? readArrayBuffer(path) : null;
    },
    options,
  );
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
