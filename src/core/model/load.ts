/**
 * From a model's files to a ready classifier: model.json + shards (+ optional metadata.json and labels
 * file) -> checked artifacts -> LayersModel -> ClassifierAdapter (or, for a TF.js graph model, GraphModel ->
 * GraphClassifierAdapter), labels, preprocessing. Used by the worker (URL or dropped files) and by Node
 * (files on disk); only the way the bytes are read differs.
 */
import { StudioError } from '../../shared/errors';
import { ClassifierAdapter } from './adapter';
import type { Classifier } from './classifier';
import { assembleArtifacts, buildGraphModel, buildLayersModel, checkModelSize, parseModelJson } from './artifacts';
import { GraphClassifierAdapter, type GraphDefJson } from './graph-adapter';
import { parseLabels } from './labels';
import { parseModelMetadata, type ModelMetadata, type PreprocessingId, type ResizePolicy } from '../../shared/model-metadata';

/** Reads one file beside model.json by name; resolves null when it does not exist. */
export type SiblingReader = (fileName: string) => Promise<ArrayBuffer | null>;

export interface LoadedClassifier {
  adapter: Classifier;
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

async function readJson(read: SiblingReader, fileName: string, notes: string[]): Promise<unknown> {
  const bytes = await read(fileName);
  if (bytes === null) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    notes.push(`${fileName} is not valid JSON: ignored`);
    return undefined;
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
  const metadataValue = await readJson(read, 'metadata.json', notes);
  const { metadata, notes: metadataNotes } = metadataValue === undefined ? { metadata: {}, notes: [] } : parseModelMetadata(metadataValue);
  notes.push(...metadataNotes);

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
    const targetLayer = options.targetLayer ?? metadata.targetLayer;
    try {
      adapter = makeAdapter(targetLayer);
    } catch (error) {
      if (
        options.targetLayer !== undefined ||
        targetLayer === undefined ||
        !(error instanceof StudioError) ||
        error.code !== 'unknown-layer'
      )
        throw error;
      notes.push(
        `metadata.json names target ${modelJson.kind === 'graph' ? 'node' : 'layer'} "${targetLayer}", which is not usable: the default was chosen`,
      );
      adapter = makeAdapter(undefined);
    }
  } catch (error) {
    model.dispose();
    throw error;
  }

  let labelsValue: unknown;
  let labelsSource = 'none';
  if (Array.isArray(metadata.labels)) {
    labelsValue = metadata.labels;
    labelsSource = 'metadata.json';
  } else {
    const candidates = metadata.labels === undefined ? LABEL_FILE_CANDIDATES : [metadata.labels];
    for (const candidate of candidates) {
      labelsValue = await readJson(read, candidate, notes);
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
    labelNames = parsed.names;
    notes.push(...parsed.notes.map((note) => `${labelsSource}: ${note}`));
  }
  if (adapter.headActivation === 'linear') notes.push('the head applies no activation: probabilities are shown with softmax');

  const preprocessing = metadata.preprocessing ?? 'unit';
  if (metadata.preprocessing === undefined)
    notes.push('no preprocessing in metadata.json: assuming [0, 1] ("unit"); choose another if the model was trained otherwise');
  return {
    adapter,
    metadata,
    labelNames,
    labelsSource,
    preprocessing,
    preprocessingSource: metadata.preprocessing === undefined ? 'default' : 'metadata',
    resizePolicy: metadata.resize ?? 'squash',
    notes,
  };
}
