/**
 * Turning a TF.js model's files (model.json + .bin shards) into a model, with clear reasons when they
 * cannot be used. Both TF.js formats are read: LayersModels (converted from Keras) and graph models
 * (`"format": "graph-model"`, converted from a SavedModel). Shared by the worker (dropped files, URLs) and
 * Node (files on disk): both collect the bytes, this module checks and assembles them.
 */
import { checkFiniteWeights } from './finite';
import { registerSplitAttentionLayers } from './split-attention-layers';
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../shared/errors';
import { registerGroupedGraphConvolutions } from './graph-grouped-conv';

/** Which TF.js format a model.json holds. */
export type ModelJsonKind = 'layers' | 'graph';

/** The parts of a TF.js model.json the studio reads (either format). */
export interface LayersModelJson {
  /** `graph`: a GraphDef in JSON form (`modelTopology.node`); `layers`: a Keras model config. */
  kind: ModelJsonKind;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: object;
  weightsManifest: tf.io.WeightsManifestConfig;
  /** Graph models converted from a SavedModel: the serving signature (input/output tensor names). */
  signature?: object;
  userDefinedMetadata?: { [key: string]: object };
  modelInitializer?: object;
  initializerSignature?: object;
}

/** Any TF.js model.json; the same shape as LayersModelJson, whose name predates graph models. */
export type ModelJson = LayersModelJson;

/** A weight file the manifest refers to, by its base name (the name a dropped file has). */
export interface WeightFileNeed {
  path: string;
  fileName: string;
}

/**
 * Parses model.json text and tells the two formats apart (`kind`): a graph model has
 * `"format": "graph-model"` (or, without a format, a GraphDef node list as its topology). Throws
 * `model-json-invalid`.
 */
export function parseModelJson(text: string): ModelJson {
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
  const topology = record['modelTopology'];
  const hasNodeList = typeof topology === 'object' && topology !== null && Array.isArray((topology as Record<string, unknown>)['node']);
  if (record['format'] === 'graph-model' || (record['format'] === undefined && hasNodeList)) {
    if (!hasNodeList) {
      throw new StudioError(
        'model-json-invalid',
        'model.json says it is a TF.js graph model but its "modelTopology" has no "node" list: the file is damaged or was not written by the TF.js converter.',
      );
    }
    if (!Array.isArray(record['weightsManifest'])) {
      throw new StudioError('model-json-invalid', 'model.json has no "weightsManifest" list: it is not a complete TF.js graph model.');
    }
    return { ...(value as Omit<ModelJson, 'kind'>), kind: 'graph' };
  }
  if (typeof topology !== 'object' || topology === null) {
    throw new StudioError('model-json-invalid', 'model.json has no "modelTopology": it is not a TF.js LayersModel.');
  }
  const manifest = record['weightsManifest'];
  if (!Array.isArray(manifest)) {
    throw new StudioError('model-json-invalid', 'model.json has no "weightsManifest" list: it is not a TF.js LayersModel.');
  }
  return { ...(value as Omit<ModelJson, 'kind'>), kind: 'layers' };
}

const baseName = (path: string): string => path.split('/').pop() ?? path;

/** The weight files model.json needs, in manifest order. */
export function weightFilesNeeded(modelJson: ModelJson): WeightFileNeed[] {
  return modelJson.weightsManifest.flatMap((group) => group.paths.map((path) => ({ path, fileName: baseName(path) })));
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const elements = spec.shape.reduce((product, size) => product * size, 1);
  return elements * (BYTES_PER_ELEMENT[dtype] ?? 4);
}

/** The unquantised float32 weights of a manifest as views into the concatenated weight data. */
function* float32Weights(
  specs: readonly tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
): Generator<{ name: string; values: Float32Array }> {
  let offset = 0;
  for (const spec of specs) {
    const bytes = weightBytes(spec);
    if (spec.dtype === 'float32' && spec.quantization === undefined && offset % 4 === 0)
      yield { name: spec.name, values: new Float32Array(data, offset, bytes / 4) };
    offset += bytes;
  }
}

/** Bytes of weights model.json's manifest declares (all groups). */
export function declaredWeightBytes(modelJson: ModelJson): number {
  return modelJson.weightsManifest.reduce(
    (sum, group) => sum + group.weights.reduce((groupSum, spec) => groupSum + weightBytes(spec), 0),
    0,
  );
}

const MIB = 1024 * 1024;

/**
 * Refuses a model whose declared weights exceed `limitBytes`, before any shard is read (so a model the
 * machine cannot hold is never downloaded or decoded). Throws `model-too-large`.
 * @param limitDescription why the limit is what it is, for the message.
 */
export function checkModelSize(modelJson: ModelJson, limitBytes: number, limitDescription: string): void {
  const bytes = declaredWeightBytes(modelJson);
  if (bytes > limitBytes) {
    throw new StudioError(
      'model-too-large',
      `This model has ${(bytes / MIB).toFixed(0)} MiB of weights; the studio accepts at most ${(limitBytes / MIB).toFixed(0)} MiB here (${limitDescription}). ` +
        'Loading it would likely crash the tab. Use a smaller model, or quantise it (tensorflowjs_converter --quantize_float16 halves the size).',
    );
  }
}

/**
 * Checks the weight files against the manifest and concatenates them into ModelArtifacts.
 * @param files weight file contents keyed by base file name (e.g. "group1-shard1of25.bin").
 * Throws `missing-shard` (naming every missing file) or `shard-size-mismatch`.
 */
export function assembleArtifacts(modelJson: ModelJson, files: ReadonlyMap<string, ArrayBuffer>): tf.io.ModelArtifacts {
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
  const weightSpecs = tf.io.getWeightSpecs(modelJson.weightsManifest);
  const weightData = tf.io.concatenateArrayBuffers(buffers);
  checkFiniteWeights(float32Weights(weightSpecs, weightData));
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs,
    weightData,
    ...(modelJson.format === undefined ? {} : { format: modelJson.format }),
    ...(modelJson.generatedBy === undefined ? {} : { generatedBy: modelJson.generatedBy }),
    ...(modelJson.convertedBy === undefined || modelJson.convertedBy === null ? {} : { convertedBy: modelJson.convertedBy }),
    ...(modelJson.signature === undefined ? {} : { signature: modelJson.signature }),
    ...(modelJson.userDefinedMetadata === undefined ? {} : { userDefinedMetadata: modelJson.userDefinedMetadata }),
    ...(modelJson.modelInitializer === undefined ? {} : { modelInitializer: modelJson.modelInitializer }),
    ...(modelJson.initializerSignature === undefined ? {} : { initializerSignature: modelJson.initializerSignature }),
  };
}

/** TF.js's registry of live variables (by unique name). */
const registeredVariables = (): Record<string, tf.Variable> =>
  (tf.engine() as unknown as { state: { registeredVariables: Record<string, tf.Variable> } }).state.registeredVariables;

/**
 * Builds the LayersModel. TF.js errors are translated: unknown layer classes become `unsupported-layer`,
 * anything else `model-build-failed`, each with the original detail.
 */
export async function buildLayersModel(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  // A scope of its own: when TF.js fails half-way (weights that do not fit the layers), the layer variables
  // and decoded weights it made are not returned to anyone; ending the scope frees them. On success the
  // model's weights are handed to the caller's scope. (TF.js builds synchronously after reading the
  // in-memory artifacts, so the scope only spans this load.)
  const variablesBefore = new Set(Object.keys(registeredVariables()));
  tf.engine().startScope();
  let model: tf.LayersModel;
  try {
    registerSplitAttentionLayers();
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    tf.engine().endScope();
    // Scopes never free variables: the layers' weights made before the failure are freed by name.
    for (const [name, variable] of Object.entries(registeredVariables())) if (!variablesBefore.has(name)) variable.dispose();
    const detail = error instanceof Error ? error.message : String(error);
    const unknownLayer = /Unknown layer: (\w+)/.exec(detail);
    if (unknownLayer) {
      throw new StudioError(
        'unsupported-layer',
        `The model uses the layer class "${unknownLayer[1]}", which TF.js does not support. Replace it (or register it as a custom layer) before converting.`,
      );
    }
    if (/Shape mismatch|no target variable|expected \d+ weights|weights? (?:are|is) not set/i.test(detail)) {
      throw new StudioError('weights-mismatch', await weightsMismatchMessage(artifacts, detail));
    }
    throw new StudioError('model-build-failed', `TF.js could not build the model: ${detail}`);
  }
  tf.engine().endScope(model.weights.map((weight) => weight.read()) as unknown as tf.TensorContainer);
  return model;
}

/**
 * Says which weights do not fit the layers, by building the topology alone (fresh initial weights, freed at
 * once) and comparing its weight names and shapes with the manifest's. Only on the error path.
 */
async function weightsMismatchMessage(artifacts: tf.io.ModelArtifacts, detail: string): Promise<string> {
  const differences: string[] = [];
  try {
    const skeleton = await tf.models.modelFromJSON({ modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'] });
    try {
      const specs = new Map((artifacts.weightSpecs ?? []).map((spec) => [spec.name, spec.shape]));
      for (const weight of skeleton.weights) {
        const found = specs.get(weight.originalName);
        if (found === undefined) differences.push(`${weight.originalName} [${weight.shape.join(', ')}] is not in the weight files`);
        else if (found.join(',') !== weight.shape.join(','))
          differences.push(
            `${weight.originalName} is [${found.join(', ')}] in the weight files, the layer needs [${weight.shape.join(', ')}]`,
          );
      }
    } finally {
      skeleton.dispose();
    }
  } catch {
    // The topology alone does not build either: keep the TF.js detail.
  }
  const shown =
    differences.length > 0
      ? ` ${differences.slice(0, 3).join('; ')}${differences.length > 3 ? ` (and ${differences.length - 3} more)` : ''}.`
      : '';
  return `The weight files do not fit this model's layers: they come from another architecture (model.json and the .bin shards of different models?).${shown} Convert the model again and use model.json with its own shards. (TF.js: ${detail})`;
}

/** Nodes whose data or control inputs name nodes the graph does not have: `[node, missing input]`. */
function danglingInputs(modelTopology: object): Array<[string, string]> {
  const nodes = (modelTopology as { node?: Array<{ name?: unknown; input?: unknown }> }).node ?? [];
  const names = new Set(nodes.map((node) => node.name));
  const dangling: Array<[string, string]> = [];
  for (const node of nodes) {
    for (const input of Array.isArray(node.input) ? (node.input as unknown[]) : []) {
      const name = String(input).replace(/^\^/, '').split(':')[0];
      if (!names.has(name)) dangling.push([String(node.name), String(input)]);
    }
  }
  return dangling;
}

/**
 * Builds a GraphModel (weights decoded; nothing executed yet, so an op TF.js lacks surfaces only when the
 * graph first runs: GraphClassifierAdapter reports it as `unsupported-layer`). A node that refers to a
 * missing input, and any TF.js error, become `model-build-failed` with the detail; the weights decoded
 * before a failure are freed.
 */
export function buildGraphModel(artifacts: tf.io.ModelArtifacts): tf.GraphModel {
  const dangling = danglingInputs(artifacts.modelTopology ?? {});
  if (dangling.length > 0) {
    const shown = dangling
      .slice(0, 3)
      .map(([node, input]) => `"${node}" reads "${input}"`)
      .join(', ');
    throw new StudioError(
      'model-build-failed',
      `The graph model is incomplete: ${shown}${dangling.length > 3 ? ` and ${dangling.length - 3} more` : ''}, which ${dangling.length > 1 ? 'are' : 'is'} not in the graph. model.json is damaged or was edited.`,
    );
  }
  // A scope of its own: if building fails after the weights were decoded, ending the scope frees them; on
  // success the weights are handed to the caller's scope.
  registerGroupedGraphConvolutions(); // before loading: the executor picks an op's implementation when it reads the graph
  tf.engine().startScope();
  let model: tf.GraphModel;
  try {
    // Typed as the async-loaded kind: the two differ only in what save() returns, which the studio never calls.
    model = tf.loadGraphModelSync(artifacts) as unknown as tf.GraphModel;
  } catch (error) {
    tf.engine().endScope();
    const detail = error instanceof Error ? error.message : String(error);
    throw new StudioError('model-build-failed', `TF.js could not read the graph model: ${detail}`);
  }
  tf.engine().endScope(model.weights as unknown as tf.TensorContainer);
  return model;
}
