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
  modelJsonText: string;
  read: SiblingReader;
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
  if (!modelUrl.pathname.endsWith('.json'))
    modelUrl = new URL(`${modelUrl.pathname.replace(/\/?$/, '/')}model.json${modelUrl.search}`, modelUrl);
  let response: Response;
  try {
    response = await fetch(modelUrl);
  } catch (error) {
    throw new StudioError(
      'model-fetch-failed',
      `Could not fetch ${modelUrl.href}: ${(error as Error).message}. Is the address right and the server reachable (and does it allow cross-origin requests)?`,
    );
  }
  if (!response.ok) {
    const hint = modelUrl.pathname.includes('/models/') ? ' If this is a bundled model, run `npm run setup` to fetch it.' : '';
    throw new StudioError('model-fetch-failed', `Could not fetch ${modelUrl.href}: HTTP ${response.status}.${hint}`);
  }
  const modelJsonText = await response.text();
  const count = progressCounter(modelJsonText, onProgress);
  const read: SiblingReader = async (fileName) => {
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
    if (fileName.endsWith('.bin')) count(bytes.byteLength);
    return bytes;
  };
  const segments = modelUrl.pathname.split('/').filter(Boolean);
  return { description: modelUrl.href, fallbackName: segments[segments.length - 2] ?? 'model', modelJsonText, read };
}

async function openFiles(files: File[], onProgress?: ProgressSink): Promise<OpenedModelSource> {
  const byName = new Map<string, File>();
  for (const file of files) byName.set(file.name, file);
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
        .join(', ')}). Drop the model folder, or model.json with its .bin shards.`,
    );
  }
  const modelJsonText = await modelJsonFile.text();
  const count = progressCounter(modelJsonText, onProgress);
  const read: SiblingReader = async (fileName) => {
    const file = byName.get(fileName);
    if (file === undefined) return null;
    const bytes = await file.arrayBuffer();
    if (fileName.endsWith('.bin')) count(bytes.byteLength);
    return bytes;
  };
  const relative = (modelJsonFile as File & { webkitRelativePath?: string }).webkitRelativePath ?? '';
  const folder = relative.includes('/') ? (relative.split('/').slice(-2)[0] ?? 'dropped model') : 'dropped model';
  return { description: `${files.length} dropped file(s)`, fallbackName: folder, modelJsonText, read };
}

export function openModelSource(source: ModelSource, onProgress?: ProgressSink): Promise<OpenedModelSource> {
  return source.kind === 'url' ? openUrl(source.url, onProgress) : openFiles(source.files, onProgress);
}
