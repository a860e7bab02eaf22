/** Node-side model loading: reads a model folder from disk (the command line and the tests). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  return loadClassifier(modelJsonText, async (fileName) => {
    const path = join(directory, fileName);
    return existsSync(path) ? readArrayBuffer(path) : null;
  }, options);
}
