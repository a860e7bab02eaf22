/**
 * Reading a model's files from a URL or from dropped files, as the `SiblingReader` that
 * src/core/model/load.ts consumes. Bytes are read on demand; nothing is kept after loading, so a reload
 * (after a backend switch) reads them again (from the HTTP cache or the user's disk).
 */
import { StudioError } from '../shared/errors';
import type { SiblingReader } from '../core/model/load';
import type { LoadProgress, ModelSource } from '../shared/protocol';

export interface OpenedModelSource {
  /** For the user: the URL or "N dropped files". */
  description: string;
  /** A name for the model when its metadata has none. */
  fallbackName: string;
  /** A TF.js model (model.json's text) or an ONNX model (the .onnx file's bytes). */
  model: { format: 'tfjs'; modelJsonText: string } | { format: 'onnx'; bytes: ArrayBuffer };
  read: SiblingReader;
}

/** Reads a response's body, reporting the bytes as they come (total from Content-Length when given). */
async function readWithProgress(response: Response, onProgress?: ProgressSink): Promise<ArrayBuffer> {
  const total = Number(response.headers.get('content-length') ?? 0);
  if (response.body === null || onProgress === undefined) return response.arrayBuffer();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress({ loadedBytes: loaded, totalBytes: Math.max(total, loaded), stage: 'fetching' });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}

/** What fetching `url` failed with, as a message a user can act on. */
async function fetchOrExplain(url: URL): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new StudioError(
      'model-fetch-failed',
      `Could not fetch ${url.href}: ${(error as Error).message}. Is the address right and the server reachable (and does it allow cross-origin requests)?`,
    );
  }
  if (!response.ok) {
    const hint = url.pathname.includes('/models/') ? ' If this is a bundled model, run `npm run setup` to fetch it.' : '';
    throw new StudioError('model-fetch-failed', `Could not fetch ${url.href}: HTTP ${response.status}.${hint}`);
  }
  return response;
}

type ProgressSink = (progress: LoadProgress) => void;

function progressCounter(modelJsonText: string, onProgress?: ProgressSink): (bytes: number) => void {
  let total = 0;
  try {
    const manifest =
      (JSON.parse(modelJsonText) as { weightsManifest?: Array<{ weights?: Array<{ shape?: number[] }> }> }).weightsManifest ?? [];
    for (const group of manifest) for (const weight of group.weights ?? []) total += 4 * (weight.shape ?? []).reduce((a, b) => a * b, 1);
  } catch {
    total = 0;
  }
  let loaded = 0;
  return (bytes) => {
    loaded += bytes;
    onProgress?.({ loadedBytes: loaded, totalBytes: Math.max(total, loaded), stage: 'fetching' });
  };
}

async function openUrl(url: string, onProgress?: ProgressSink): Promise<OpenedModelSource> {
  let modelUrl: URL;
  try {
    modelUrl = new URL(url, self.location.href);
  } catch {
    throw new StudioError('model-fetch-failed', `"${url}" is not a valid URL.`);
  }
  const onnx = /\.onnx$/i.test(modelUrl.pathname);
  if (!onnx && !modelUrl.pathname.endsWith('.json'))
    modelUrl = new URL(`${modelUrl.pathname.replace(/\/?$/, '/')}model.json${modelUrl.search}`, modelUrl);
  const response = await fetchOrExplain(modelUrl);
  const segments = modelUrl.pathname.split('/').filter(Boolean);
  if (onnx) {
    const bytes = await readWithProgress(response, onProgress);
    const fallbackName = (segments[segments.length - 1] ?? 'model').replace(/\.onnx$/i, '');
    return { description: modelUrl.href, fallbackName, model: { format: 'onnx', bytes }, read: siblingsOf(modelUrl) };
  }
  const modelJsonText = await response.text();
  const count = progressCounter(modelJsonText, onProgress);
  return {
    description: modelUrl.href,
    fallbackName: segments[segments.length - 2] ?? 'model',
    model: { format: 'tfjs', modelJsonText },
    read: siblingsOf(modelUrl, count),
  };
}

/** Reads the files beside a model URL by name (null when the server has none); shards count as progress. */
function siblingsOf(modelUrl: URL, count?: (bytes: number) => void): SiblingReader {
  return async (fileName) => {
    const fileUrl = new URL(fileName, modelUrl);
    let sibling: Response;
    try {
      sibling = await fetch(fileUrl);
    } catch (error) {
      throw new StudioError('model-fetch-failed', `Could not fetch ${fileUrl.href}: ${(error as Error).message}.`);
    }
    if (sibling.status === 404) return null;
    if (!sibling.ok) throw new StudioError('model-fetch-failed', `Could not fetch ${fileUrl.href}: HTTP ${sibling.status}.`);
    const bytes = await sibling.arrayBuffer();
    if (fileName.endsWith('.bin')) count?.(bytes.byteLength);
    return bytes;
  };
}

async function openFiles(files: File[], onProgress?: ProgressSink): Promise<OpenedModelSource> {
  const byName = new Map<string, File>();
  for (const file of files) byName.set(file.name, file);
  const read = (fileName: string): Promise<ArrayBuffer | null> => byName.get(fileName)?.arrayBuffer() ?? Promise.resolve(null);
  const onnxFiles = files.filter((file) => /\.onnx$/i.test(file.name));
  if (onnxFiles.length > 0 && !byName.has('model.json')) {
    if (onnxFiles.length > 1) {
      throw new StudioError(
        'model-json-invalid',
        `${onnxFiles.length} .onnx files were dropped (${onnxFiles.map((file) => file.name).join(', ')}): drop one model at a time.`,
      );
    }
    const file = onnxFiles[0]!;
    onProgress?.({ loadedBytes: 0, totalBytes: file.size, stage: 'fetching' });
    const bytes = await file.arrayBuffer();
    onProgress?.({ loadedBytes: bytes.byteLength, totalBytes: bytes.byteLength, stage: 'fetching' });
    return {
      description: `${files.length} dropped file(s)`,
      fallbackName: file.name.replace(/\.onnx$/i, ''),
      model: { format: 'onnx', bytes },
      read,
    };
  }
  let modelJsonFile = byName.get('model.json');
  if (modelJsonFile === undefined) {
    const jsons = files.filter((file) => file.name.endsWith('.json') && file.name !== 'metadata.json');
    if (jsons.length === 1) modelJsonFile = jsons[0];
  }
  if (modelJsonFile === undefined) {
    throw new StudioError(
      'model-json-invalid',
      `No model.json among the ${files.length} dropped file(s) (${files
        .slice(0, 5)
        .map((file) => file.name)
        .join(', ')}). Drop the model folder, model.json with its .bin shards, or an .onnx file.`,
    );
  }
  const modelJsonText = await modelJsonFile.text();
  const count = progressCounter(modelJsonText, onProgress);
  const readShards: SiblingReader = async (fileName) => {
    const file = byName.get(fileName);
    if (file === undefined) return null;
    const bytes = await file.arrayBuffer();
    if (fileName.endsWith('.bin')) count(bytes.byteLength);
    return bytes;
  };
  const relative = (modelJsonFile as File & { webkitRelativePath?: string }).webkitRelativePath ?? '';
  const folder = relative.includes('/') ? (relative.split('/').slice(-2)[0] ?? 'dropped model') : 'dropped model';
  return {
    description: `${files.length} dropped file(s)`,
    fallbackName: folder,
    model: { format: 'tfjs', modelJsonText },
    read: readShards,
  };
}

export function openModelSource(source: ModelSource, onProgress?: ProgressSink): Promise<OpenedModelSource> {
  return source.kind === 'url' ? openUrl(source.url, onProgress) : openFiles(source.files, onProgress);
}
