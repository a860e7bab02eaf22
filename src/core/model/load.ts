/**
 * From a model's files to a ready classifier: model.json + shards (+ optional metadata.json and labels
 * file) -> checked artifacts -> LayersModel -> ClassifierAdapter (or, for a TF.js graph model, GraphModel ->
 * GraphClassifierAdapter), or an .onnx file -> OnnxGraph -> OnnxClassifierAdapter; then labels and
 * preprocessing, the same for every format. Used by the worker (URL or dropped files) and by Node (files on
 * disk); only the way the bytes are read differs.
 */
import { StudioError } from '../../shared/errors';
import { ClassifierAdapter } from './adapter';
import type { Classifier } from './classifier';
import { assembleArtifacts, buildGraphModel, buildLayersModel, checkModelSize, parseModelJson } from './artifacts';
import { GraphClassifierAdapter, type GraphDefJson } from './graph-adapter';
import { parseLabels } from '../../shared/labels';
import {
  parseModelMetadata,
  type ModelFormat,
  type ModelMetadata,
  type PreprocessingId,
  type ResizePolicy,
} from '../../shared/model-metadata';
import { OnnxClassifierAdapter } from './onnx/adapter';
import { OnnxGraph } from './onnx/graph';
import { decodeOnnx, externalDataFiles, parseOnnx } from './onnx/proto';

/** Reads one file beside model.json by name; resolves null when it does not exist. */
export type SiblingReader = (fileName: string) => Promise<ArrayBuffer | null>;

export interface LoadedClassifier {
  adapter: Classifier;
  format: ModelFormat;
  metadata: ModelMetadata;
  labelNames: string[];
  labelsSource: string;
  preprocessing: PreprocessingId;
  preprocessingSource: 'metadata' | 'default';
  resizePolicy: ResizePolicy;
  notes: string[];
}

const LABEL_FILE_CANDIDATES = ['labels.json', 'imagenet_class_index.json', 'class_names.json', 'classes.json'];
const decoder = new TextDecoder();

/**
 * A file beside the model that the model's meaning depends on (metadata.json, the labels) is read strictly:
 * a broken one is an error naming it, never a silent fallback to defaults that would explain with the wrong
 * preprocessing or names.
 */
function invalidSibling(fileName: string, problem: string): StudioError {
  return new StudioError(
    'model-metadata-invalid',
    `${fileName} beside the model ${problem}. Fix it, or remove it to use the defaults (the studio says which it then assumes).`,
  );
}

async function readJson(read: SiblingReader, fileName: string): Promise<unknown> {
  const bytes = await read(fileName);
  if (bytes === null) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw invalidSibling(fileName, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * Loads a classifier.
 * @param modelJsonText the text of model.json
 * @param read reads the shards and optional sibling files by base name
 * @param options.targetLayer overrides the metadata's target layer
 * @param options.weightLimit refuses (`model-too-large`) a model declaring more weight bytes, before reading shards
 */
export async function loadClassifier(
  modelJsonText: string,
  read: SiblingReader,
  options: { targetLayer?: string; weightLimit?: { bytes: number; why: string } } = {},
): Promise<LoadedClassifier> {
  const modelJson = parseModelJson(modelJsonText);
  if (options.weightLimit !== undefined) checkModelSize(modelJson, options.weightLimit.bytes, options.weightLimit.why);
  const notes: string[] = [];
  const metadata = await readMetadata(read);

  const files = new Map<string, ArrayBuffer>();
  const missing: string[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) {
      const fileName = path.split('/').pop() ?? path;
      const bytes = await read(fileName);
      if (bytes === null) missing.push(fileName);
      else files.set(fileName, bytes);
    }
  }
  const artifacts = assembleArtifacts(modelJson, files); // throws missing-shard / shard-size-mismatch
  let model: { dispose(): void };
  let makeAdapter: (targetLayer: string | undefined) => Classifier;
  if (modelJson.kind === 'graph') {
    const graphModel = buildGraphModel(artifacts);
    const graph = modelJson.modelTopology as GraphDefJson;
    model = graphModel;
    makeAdapter = (targetLayer) => new GraphClassifierAdapter(graphModel, targetLayer === undefined ? { graph } : { graph, targetLayer });
  } else {
    const layersModel = await buildLayersModel(artifacts);
    model = layersModel;
    makeAdapter = (targetLayer) => new ClassifierAdapter(layersModel, targetLayer === undefined ? {} : { targetLayer });
  }
  let adapter: Classifier;
  try {
    adapter = adapterWithTarget(makeAdapter, metadata, options, modelJson.kind === 'graph' ? 'node' : 'layer');
  } catch (error) {
    model.dispose();
    throw error;
  }
  return finishLoad(adapter, metadata, read, notes, modelJson.kind === 'graph' ? 'tfjs-graph' : 'tfjs-layers', 'unit');
}

/** The model's target layer: the option's, else metadata.json's (which must exist), else the default. */
function adapterWithTarget(
  makeAdapter: (targetLayer: string | undefined) => Classifier,
  metadata: ModelMetadata,
  options: { targetLayer?: string },
  what: string,
): Classifier {
  const targetLayer = options.targetLayer ?? metadata.targetLayer;
  try {
    return makeAdapter(targetLayer);
  } catch (error) {
    if (options.targetLayer !== undefined || targetLayer === undefined || !(error instanceof StudioError) || error.code !== 'unknown-layer')
      throw error;
    throw new StudioError(
      'unknown-layer',
      `metadata.json names the target ${what} "${targetLayer}", which is not usable: ${error.message}`,
    );
  }
}

/** The labels, preprocessing and notes around a built adapter (the same for every format). */
async function finishLoad(
  adapter: Classifier,
  metadata: ModelMetadata,
  read: SiblingReader,
  notes: string[],
  format: ModelFormat,
  defaultPreprocessing: PreprocessingId,
): Promise<LoadedClassifier> {
  let labelsValue: unknown;
  let labelsSource = 'none';
  if (Array.isArray(metadata.labels)) {
    labelsValue = metadata.labels;
    labelsSource = 'metadata.json';
  } else {
    const candidates = metadata.labels === undefined ? LABEL_FILE_CANDIDATES : [metadata.labels];
    for (const candidate of candidates) {
      labelsValue = await readJson(read, candidate);
      if (labelsValue !== undefined) {
        labelsSource = candidate;
        break;
      }
    }
  }
  let labelNames: string[];
  if (labelsValue === undefined) {
    labelNames = Array.from({ length: adapter.numClasses }, (_, index) => `class ${index}`);
    notes.push('no labels file (labels.json or imagenet_class_index.json beside model.json): classes are named "class N"');
  } else {
    const parsed = parseLabels(labelsValue, adapter.numClasses);
    if (parsed.notes.length > 0) throw invalidSibling(labelsSource, `does not name the model's classes: ${parsed.notes.join('; ')}`);
    labelNames = parsed.names;
  }
  if (adapter.headActivation === 'linear') notes.push('the head applies no activation: probabilities are shown with softmax');

  const preprocessing = metadata.preprocessing ?? defaultPreprocessing;
  if (metadata.preprocessing === undefined) {
    notes.push(
      defaultPreprocessing === 'torch'
        ? 'no preprocessing in metadata.json: assuming torchvision\'s ImageNet normalisation ("torch"), as PyTorch models mostly use; choose another if the model was trained otherwise'
        : 'no preprocessing in metadata.json: assuming [0, 1] ("unit"); choose another if the model was trained otherwise',
    );
  }
  return {
    adapter,
    format,
    metadata,
    labelNames,
    labelsSource,
    preprocessing,
    preprocessingSource: metadata.preprocessing === undefined ? 'default' : 'metadata',
    resizePolicy: metadata.resize ?? 'squash',
    notes,
  };
}

/** Reads metadata.json beside the model (absent: no metadata); a field that does not fit its schema is an error. */
async function readMetadata(read: SiblingReader): Promise<ModelMetadata> {
  const value = await readJson(read, 'metadata.json');
  if (value === undefined) return {};
  const { metadata, notes } = parseModelMetadata(value);
  if (notes.length > 0)
    throw invalidSibling('metadata.json', `is not usable: ${notes.map((note) => note.replace(/^metadata\.json: /, '')).join('; ')}`);
  return metadata;
}

/**
 * Loads an ONNX classifier (a PyTorch export, say): the .onnx bytes, the external data files its weights
 * name (read beside it, like TF.js shards), and optional metadata.json / labels file beside it, read as for
 * TF.js models. Without metadata the preprocessing is torchvision's ImageNet normalisation ('torch').
 * @param options.weightLimit refuses (`model-too-large`) a model larger than this (file and data files), before decoding it
 */
export async function loadOnnxClassifier(
  bytes: ArrayBuffer,
  read: SiblingReader,
  options: { targetLayer?: string; weightLimit?: { bytes: number; why: string } } = {},
): Promise<LoadedClassifier> {
  const limit = (size: number): void => {
    if (options.weightLimit === undefined || size <= options.weightLimit.bytes) return;
    const mib = (n: number): string => (n / 1024 ** 2).toFixed(0);
    throw new StudioError(
      'model-too-large',
      `This ONNX model is ${mib(size)} MiB; the studio accepts at most ${mib(options.weightLimit.bytes)} MiB here (${options.weightLimit.why}). Loading it would likely crash the tab.`,
    );
  };
  limit(bytes.byteLength);
  const proto = parseOnnx(new Uint8Array(bytes));
  const external = new Map<string, ArrayBuffer>();
  let size = bytes.byteLength;
  for (const file of externalDataFiles(proto)) {
    const data = await read(file);
    if (data === null) continue; // decodeOnnx names the first initializer that needs it
    external.set(file, data);
    size += data.byteLength;
    limit(size);
  }
  const notes: string[] = [];
  const metadata = await readMetadata(read);
  const graph = new OnnxGraph(decodeOnnx(proto, external));
  let adapter: Classifier;
  try {
    adapter = adapterWithTarget(
      (targetLayer) => new OnnxClassifierAdapter(graph, targetLayer === undefined ? {} : { targetLayer }),
      metadata,
      options,
      'value',
    );
  } catch (error) {
    graph.dispose();
    throw error;
  }
  return finishLoad(adapter, metadata, read, notes, 'onnx', 'torch');
}
