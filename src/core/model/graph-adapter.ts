/**
 * Model surgery on TF.js graph models (`tf.GraphModel`: a frozen GraphDef from the converter's SavedModel
 * output): the same split as ClassifierAdapter (adapter.ts), `features: x -> A` and `head: A -> S`, done by
 * choosing an internal node as the target and feeding it to the rest of the graph.
 *
 * - Input / output: the graph's single input node (`[B, H, W, C]`, C 1 or 3) and single output node.
 * - Logits: when the output node (behind any `Identity` nodes) is `Softmax` or `Sigmoid`, the logits are its
 *   input node and the head's activation is recorded; otherwise the output is taken as linear logits.
 * - Target: any internal node with a 4-D output (`[B, h, w, K]`) that separates the graph (every path from
 *   the input to the logits passes through it). Shapes come from one execution on zeros. The default is
 *   the last such node in topological order.
 * - `forward`: `model.execute({input: x}, [target, logits])`. `headLogits`: `model.execute({target: A},
 *   logits)`; GraphModel.execute accepts tensors for intermediate nodes and only runs the sub-graph that
 *   lies between them and the requested outputs. The graph executor runs ordinary TF.js ops, so the
 *   gradient tape records them: `tf.grad` flows through `headLogits` (w.r.t. `A`) and `logitsOf` (w.r.t. `x`).
 * - Head kind: `gap-dense` when the nodes between the target and the logits are exactly global average
 *   pooling (`Mean` over axes [1, 2], or an `AvgPool` whose window is the whole map, with `Identity`,
 *   `Squeeze` or `Reshape` nodes around it) followed by `MatMul` with a `Const` weight `W: [K, L]` (+ a
 *   `BiasAdd`/`Add`/`AddV2` of a `Const`, or the converter's `_FusedMatMul` with a fused `BiasAdd`). Then
 *   `classWeights = W` (from the model's weight map). Otherwise `generic`: gradient methods work through
 *   autodiff of the graph's head.
 *
 * Ownership: the adapter owns the GraphModel; `dispose()` frees its weights. Adapters made by `retarget`
 * share the model (and the cached graph analysis); dispose only one of them.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../shared/errors';
import type { Classifier, ForwardPass, TargetLayerChoice } from './classifier';
import type { HeadActivation, HeadKind } from '../../shared/model-metadata';

/** One attribute value of a GraphDef node, as model.json stores it (strings are base64). */
export interface GraphAttrValue {
  b?: boolean;
  s?: string;
  i?: string | number;
  f?: number;
  type?: string;
  list?: { s?: string[]; i?: Array<string | number>; b?: boolean[] };
  shape?: { dim?: Array<{ size?: string | number }>; unknownRank?: boolean };
  tensor?: object;
}

/** One GraphDef node as model.json stores it. */
export interface GraphNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, GraphAttrValue>;
}

/** The GraphDef in model.json's `modelTopology`. */
export interface GraphDefJson {
  node: GraphNodeDef[];
}

export interface GraphClassifierAdapterOptions {
  /** A target node name; the default is the last separating 4-D node. */
  targetLayer?: string;
  /**
   * The GraphDef (model.json's `modelTopology`). Default: the one the GraphModel was loaded from (TF.js
   * keeps it in the model's artifacts).
   */
  graph?: GraphDefJson;
}

/** A node with its data inputs as node names (`name:1` -> `name`; control inputs `^name` dropped). */
interface GraphNode {
  name: string;
  op: string;
  inputs: string[];
  attr: Record<string, GraphAttrValue>;
}

/** What does not depend on the target: computed once per GraphModel and shared by its retargets. */
interface GraphAnalysis {
  nodes: Map<string, GraphNode>;
  inputNode: string;
  /** `[H, W, C]` */
  inputShape: [number, number, number];
  outputNode: string;
  logitsNode: string;
  headActivation: HeadActivation;
  numClasses: number;
  /** Separating 4-D nodes in topological order. */
  candidates: TargetLayerChoice[];
  numParameters: number;
}

/** What GraphModel.inputs / outputs describe (the converter's TensorInfo: node name, shape, dtype). */
interface GraphTensorInfo {
  name: string;
  shape?: number[];
  dtype?: string;
}

const analyses = new WeakMap<tf.GraphModel, GraphAnalysis>();

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * The values of a small int32 Const (e.g. a Mean's axes), read from the weight bytes the GraphModel was
 * loaded from, so that no tensor data is read synchronously. Null when the node is not such a Const.
 */
function intConstant(model: tf.GraphModel, name: string | undefined): number[] | null {
  const artifacts = (model as unknown as { artifacts?: tf.io.ModelArtifacts }).artifacts;
  const specs = artifacts?.weightSpecs;
  const data = artifacts?.weightData;
  if (name === undefined || specs === undefined || data === undefined) return null;
  const buffer = data instanceof ArrayBuffer ? data : tf.io.concatenateArrayBuffers(data);
  let offset = 0;
  for (const spec of specs) {
    const elements = spec.shape.reduce((product, size) => product * size, 1);
    const bytes = elements * (BYTES_PER_ELEMENT[spec.quantization?.dtype ?? spec.dtype] ?? 4);
    if (spec.name === name) {
      if (spec.dtype !== 'int32' || spec.quantization !== undefined || elements > 16) return null;
      return Array.from(new Int32Array(buffer.slice(offset, offset + bytes)));
    }
    offset += bytes;
  }
  return null;
}

const PASS_THROUGH_OPS = new Set(['Identity', 'Snapshot', 'StopGradient', 'PreventGradient']);
const RESHAPE_OPS = new Set(['Identity', 'Snapshot', 'Squeeze', 'Reshape']);
const FLOAT_DTYPES = new Set(['float32', 'float16']);

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a base64 ASCII string (GraphDef string attributes, e.g. "VkFMSUQ=" -> "VALID"). */
function decodeBase64(text: string): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const char of text.replace(/=+$/, '')) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) return text; // not base64: keep as is
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
    }
  }
  return out;
}
const boolAttr = (node: GraphNode, name: string): boolean => node.attr[name]?.b === true;
const stringListAttr = (node: GraphNode, name: string): string[] => (node.attr[name]?.list?.s ?? []).map(decodeBase64);
const intListAttr = (node: GraphNode, name: string): number[] => (node.attr[name]?.list?.i ?? []).map(Number);
const stringAttr = (node: GraphNode, name: string): string | undefined => {
  const value = node.attr[name]?.s;
  return value === undefined ? undefined : decodeBase64(value);
};

function graphOf(model: tf.GraphModel, options: GraphClassifierAdapterOptions): GraphDefJson {
  const graph = options.graph ?? (model as unknown as { artifacts?: tf.io.ModelArtifacts }).artifacts?.modelTopology;
  if (typeof graph !== 'object' || graph === null || !Array.isArray((graph as Partial<GraphDefJson>).node)) {
    throw new StudioError('model-build-failed', 'The graph model carries no GraphDef node list: it cannot be split at a target node.');
  }
  return graph as GraphDefJson;
}

function indexNodes(graph: GraphDefJson): Map<string, GraphNode> {
  const nodes = new Map<string, GraphNode>();
  for (const def of graph.node) {
    const inputs = (def.input ?? []).filter((name) => !name.startsWith('^')).map((name) => name.split(':')[0] as string);
    nodes.set(def.name, { name: def.name, op: def.op, inputs, attr: def.attr ?? {} });
  }
  return nodes;
}

/** Nodes `end` depends on (data inputs only), in a topological order ending with `end`. */
function ancestorsInOrder(nodes: Map<string, GraphNode>, end: string): string[] {
  const order: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: Array<{ name: string; next: number }> = [{ name: end, next: 0 }];
  state.set(end, 'open');
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as { name: string; next: number };
    const inputs = nodes.get(frame.name)?.inputs ?? [];
    if (frame.next < inputs.length) {
      const child = inputs[frame.next++] as string;
      if (!state.has(child) && nodes.has(child)) {
        state.set(child, 'open');
        stack.push({ name: child, next: 0 });
      }
    } else {
      state.set(frame.name, 'done');
      order.push(frame.name);
      stack.pop();
    }
  }
  return order;
}

/**
 * True when some path from `end` back to the input node avoids `blocked` (so `blocked` does not separate
 * the graph). Const nodes are leaves.
 */
function inputReachableAvoiding(nodes: Map<string, GraphNode>, end: string, input: string, blocked: string): boolean {
  const seen = new Set<string>([blocked]);
  const stack = [end];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (name === input) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...(nodes.get(name)?.inputs ?? []));
  }
  return false;
}

/** Translates errors of the first execution into studio errors (unsupported ops, dynamic ops). */
function executionError(error: unknown): StudioError {
  if (error instanceof StudioError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const unknownOp = /Unknown op '([^']+)'/.exec(detail) ?? /Custom op (\S+) is not registered/.exec(detail);
  if (unknownOp) {
    return new StudioError(
      'unsupported-layer',
      `The graph uses the op "${unknownOp[1]}", which TF.js does not support. Re-export the model without it (or register it as a custom op) before converting.`,
    );
  }
  if (/executeAsync/.test(detail)) {
    return new StudioError(
      'model-build-failed',
      `The graph has control flow or dynamic ops between its input and output, which the studio cannot split: ${detail}`,
    );
  }
  return new StudioError('model-build-failed', `TF.js could not run the graph model: ${detail}`);
}

function analyze(model: tf.GraphModel, graph: GraphDefJson): GraphAnalysis {
  const nodes = indexNodes(graph);
  const inputs = model.inputs as unknown as GraphTensorInfo[];
  const outputs = model.outputs as unknown as GraphTensorInfo[];
  if (model.inputs.length !== 1) {
    throw new StudioError(
      'multiple-inputs',
      `The graph model has ${model.inputs.length} inputs (${inputs.map((info) => info.name).join(', ')}); the studio explains single-image classifiers (one input).`,
    );
  }
  if (model.outputs.length !== 1) {
    throw new StudioError(
      'multiple-outputs',
      `The graph model has ${model.outputs.length} outputs (${outputs.map((info) => info.name).join(', ')}); the studio needs a single class-score output.`,
    );
  }
  const input = inputs[0] as GraphTensorInfo;
  const shape = input.shape ?? [];
  const channels = shape[3];
  if (shape.length !== 4 || (channels !== 1 && channels !== 3)) {
    const shown = input.shape === undefined ? 'unknown' : `[${shape.map((d) => (d === -1 ? 'null' : d)).join(', ')}]`;
    throw new StudioError(
      'bad-input-rank',
      `The graph model's input "${input.name}" has shape ${shown}; the studio needs an image input [batch, height, width, 1 or 3].`,
    );
  }
  if (input.dtype !== undefined && input.dtype !== 'float32') {
    throw new StudioError(
      'bad-input-rank',
      `The graph model's input "${input.name}" has dtype ${input.dtype}; the studio needs a float32 image input [batch, height, width, 1 or 3] (gradients need real-valued pixels).`,
    );
  }
  const dim = (size: number | undefined): number => (size === undefined || size < 0 ? 224 : size);
  const inputShape: [number, number, number] = [dim(shape[1]), dim(shape[2]), channels];
  const inputNode = input.name;
  const outputNode = (outputs[0] as GraphTensorInfo).name;

  // Logits: peel Identity nodes off the output, then a final Softmax / Sigmoid.
  let logitsNode = outputNode;
  let headActivation: HeadActivation = 'linear';
  let node = nodes.get(logitsNode);
  while (node !== undefined && PASS_THROUGH_OPS.has(node.op) && node.inputs.length === 1) node = nodes.get(node.inputs[0] as string);
  if (node !== undefined && (node.op === 'Softmax' || node.op === 'Sigmoid') && node.inputs[0] !== undefined) {
    headActivation = node.op === 'Softmax' ? 'softmax' : 'sigmoid';
    logitsNode = node.inputs[0];
  } else if (node !== undefined) {
    logitsNode = node.name;
  }

  const order = ancestorsInOrder(nodes, logitsNode);
  if (!order.includes(inputNode)) {
    throw new StudioError('model-build-failed', `The graph's output "${outputNode}" does not depend on its input "${inputNode}".`);
  }
  const separating = order.filter((name) => {
    const op = nodes.get(name)?.op;
    if (name === inputNode || name === logitsNode || op === 'Const' || op === undefined || op.startsWith('Placeholder')) return false;
    return !inputReachableAvoiding(nodes, logitsNode, inputNode, name);
  });

  // One execution on zeros gives every separating node's shape (and the number of classes).
  const probed = tf.tidy(() => {
    const zeros = tf.zeros([1, ...inputShape]);
    let outputs: tf.Tensor[];
    try {
      outputs = model.execute({ [inputNode]: zeros }, [...separating, logitsNode]) as tf.Tensor[];
    } catch (error) {
      throw executionError(error);
    }
    return outputs.map((tensor) => ({ shape: tensor.shape, dtype: tensor.dtype }));
  });
  const logitsShape = (probed[probed.length - 1] as { shape: number[] }).shape;
  if (logitsShape.length !== 2) {
    throw new StudioError(
      'bad-input-rank',
      `The graph's logits node "${logitsNode}" has shape [${logitsShape.join(', ')}] for one image; the studio needs class scores [batch, classes].`,
    );
  }
  const candidates: TargetLayerChoice[] = [];
  separating.forEach((name, index) => {
    const info = probed[index] as { shape: number[]; dtype: string };
    if (info.shape.length === 4 && FLOAT_DTYPES.has(info.dtype)) candidates.push({ name, shape: info.shape.slice(1) });
  });
  if (candidates.length === 0) {
    throw new StudioError(
      'no-conv-layer',
      'The graph has no node with a 4-D (convolutional) output that every path to its output passes through: class activation maps need spatial feature maps.',
    );
  }

  let numParameters = 0;
  for (const tensors of Object.values(model.weights)) {
    for (const tensor of tensors) if (FLOAT_DTYPES.has(tensor.dtype)) numParameters += tensor.size;
  }
  return {
    nodes,
    inputNode,
    inputShape,
    outputNode,
    logitsNode,
    headActivation,
    numClasses: logitsShape[1] as number,
    candidates,
    numParameters,
  };
}

export class GraphClassifierAdapter implements Classifier {
  readonly model: tf.GraphModel;
  /** `[H, W, C]` of the model input (224 where the graph leaves a spatial size open). */
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly numParameters: number;
  readonly targetLayer: string;
  /** `[h, w, K]` */
  readonly targetShape: [number, number, number];
  readonly candidates: TargetLayerChoice[];
  readonly headKind: HeadKind;
  readonly headActivation: HeadActivation;
  /** The class weights `W: [K, L]` of a `gap-dense` head, else null. Owned by the model. */
  readonly classWeights: tf.Tensor2D | null;
  /** The graph's input node, fed with the preprocessed images. */
  readonly inputNode: string;
  /** The node whose output is the pre-activation logits `[B, L]`. */
  readonly logitsNode: string;

  private readonly graphNodes: Map<string, GraphNode>;
  private readonly graph: GraphDefJson;

  constructor(model: tf.GraphModel, options: GraphClassifierAdapterOptions = {}) {
    this.model = model;
    this.graph = graphOf(model, options);
    let analysis = analyses.get(model);
    if (analysis === undefined) {
      analysis = analyze(model, this.graph);
      analyses.set(model, analysis);
    }
    this.graphNodes = analysis.nodes;
    this.inputShape = analysis.inputShape;
    this.numClasses = analysis.numClasses;
    this.numParameters = analysis.numParameters;
    this.candidates = analysis.candidates;
    this.headActivation = analysis.headActivation;
    this.inputNode = analysis.inputNode;
    this.logitsNode = analysis.logitsNode;

    const requested = options.targetLayer;
    const fallback = this.candidates[this.candidates.length - 1] as TargetLayerChoice;
    const choice = requested === undefined ? fallback : this.candidates.find((candidate) => candidate.name === requested);
    if (choice === undefined) {
      const shown =
        this.candidates.length > 8
          ? `${this.candidates
              .slice(-8)
              .map((candidate) => candidate.name)
              .join(', ')} (and ${this.candidates.length - 8} earlier ones)`
          : this.candidates.map((candidate) => candidate.name).join(', ');
      const node = this.graphNodes.get(requested as string);
      throw new StudioError(
        'unknown-layer',
        node === undefined
          ? `The graph has no node named "${requested}". Usable target nodes: ${shown} (default: ${fallback.name}).`
          : `Node "${requested}" (op ${node.op}) is not a usable target: choose a node with a 4-D output that every path from the input to the output passes through, e.g. ${shown} (default: ${fallback.name}).`,
      );
    }
    this.targetLayer = choice.name;
    const [h, w, k] = choice.shape;
    this.targetShape = [h ?? -1, w ?? -1, k ?? -1];
    this.classWeights = this.findGapDenseWeights();
    this.headKind = this.classWeights === null ? 'generic' : 'gap-dense';
  }

  /** The node's only non-Const input, or null when it has none or several. */
  private soleDataInput(node: GraphNode): GraphNode | null {
    const data = node.inputs.filter((name) => this.graphNodes.get(name)?.op !== 'Const');
    return data.length === 1 ? (this.graphNodes.get(data[0] as string) ?? null) : null;
  }

  /** The weight tensor of a Const node (from the model's weight map), or null. */
  private constTensor(name: string | undefined): tf.Tensor | null {
    if (name === undefined || this.graphNodes.get(name)?.op !== 'Const') return null;
    return this.model.weights[name]?.[0] ?? null;
  }

  /** True when `node` averages the target over its whole map: Mean over axes {1, 2}, or a full-window AvgPool. */
  private isGlobalAveragePool(node: GraphNode): boolean {
    const [h, w] = this.targetShape;
    if (node.op === 'Mean') {
      const axes = intConstant(this.model, node.inputs[1]);
      if (axes === null) return false;
      const values = axes.map((axis) => (axis < 0 ? axis + 4 : axis)).sort();
      return values.length === 2 && values[0] === 1 && values[1] === 2;
    }
    if (node.op === 'AvgPool') {
      const ksize = intListAttr(node, 'ksize');
      return (
        stringAttr(node, 'data_format') !== 'NCHW' &&
        ksize[1] === h &&
        ksize[2] === w &&
        (stringAttr(node, 'padding') === 'VALID' || (h === 1 && w === 1))
      );
    }
    return false;
  }

  /**
   * The Dense kernel `W: [K, L]` when the nodes between target and logits are exactly
   * GAP -> MatMul(W) (+ bias), else null. See the module comment for the accepted node patterns.
   */
  private findGapDenseWeights(): tf.Tensor2D | null {
    let node = this.graphNodes.get(this.logitsNode);
    if (node === undefined) return null;
    // Optional bias add of a Const vector on top of the MatMul.
    if ((node.op === 'BiasAdd' || node.op === 'Add' || node.op === 'AddV2') && node.inputs.length === 2) {
      const bias = node.inputs.find((name) => this.graphNodes.get(name)?.op === 'Const');
      const tensor = this.constTensor(bias);
      if (tensor === null || tensor.rank !== 1 || tensor.size !== this.numClasses) return null;
      node = this.soleDataInput(node) ?? undefined;
      if (node === undefined) return null;
    }
    let kernelName: string | undefined;
    if (node.op === 'MatMul' || node.op === '_FusedMatMul') {
      if (boolAttr(node, 'transpose_a') || boolAttr(node, 'transpose_b')) return null;
      if (node.op === '_FusedMatMul') {
        const fused = stringListAttr(node, 'fused_ops');
        if (!(fused.length === 0 || (fused.length === 1 && fused[0] === 'BiasAdd'))) return null;
        if (fused.length === 1 && this.constTensor(node.inputs[2]) === null) return null;
      }
      kernelName = node.inputs[1];
    } else {
      return null;
    }
    const kernel = this.constTensor(kernelName);
    const [, , k] = this.targetShape;
    if (
      kernel === null ||
      kernel.rank !== 2 ||
      kernel.shape[0] !== k ||
      kernel.shape[1] !== this.numClasses ||
      !FLOAT_DTYPES.has(kernel.dtype)
    )
      return null;
    if (this.graphNodes.get(node.inputs[0] as string)?.op === 'Const') return null;
    // Below the MatMul: reshapes, one global average pool, pass-through nodes, then the target itself.
    let current = this.graphNodes.get(node.inputs[0] as string) ?? null;
    while (current !== null && current.name !== this.targetLayer && RESHAPE_OPS.has(current.op)) current = this.soleDataInput(current);
    if (current === null || current.name === this.targetLayer || !this.isGlobalAveragePool(current)) return null;
    current = this.soleDataInput(current);
    while (current !== null && current.name !== this.targetLayer && PASS_THROUGH_OPS.has(current.op)) current = this.soleDataInput(current);
    return current !== null && current.name === this.targetLayer ? (kernel as tf.Tensor2D) : null;
  }

  /**
   * The same GraphModel split at another node. The returned adapter shares the weights; dispose only one
   * of them (the engine keeps the newest and drops the old one without disposing it).
   */
  retarget(targetLayer: string): GraphClassifierAdapter {
    return new GraphClassifierAdapter(this.model, { targetLayer, graph: this.graph });
  }

  /**
   * Logits from target activations, by feeding the target node.
   * @param activations `[B, h, w, K]`
   * @returns `[B, L]`; differentiable w.r.t. `activations`.
   */
  headLogits(activations: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.model.execute({ [this.targetLayer]: activations }, this.logitsNode) as tf.Tensor2D);
  }

  /**
   * Logits straight from preprocessed inputs: `[B, H, W, C]` -> `[B, L]`. Differentiable w.r.t. the input.
   */
  logitsOf(input: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.model.execute({ [this.inputNode]: input }, this.logitsNode) as tf.Tensor2D);
  }

  /**
   * One forward pass: activations at the target node and logits.
   * @param input `[B, H, W, C]`, preprocessed
   * The caller owns (and disposes) both tensors.
   */
  forward(input: tf.Tensor4D): ForwardPass {
    return tf.tidy(() => {
      const [activations, logits] = this.model.execute({ [this.inputNode]: input }, [this.targetLayer, this.logitsNode]) as [
        tf.Tensor4D,
        tf.Tensor2D,
      ];
      return { activations, logits };
    });
  }

  /** Probabilities from logits under the head's activation (softmax for a linear head). `[B, L]` */
  probabilities(logits: tf.Tensor2D): tf.Tensor2D {
    return this.headActivation === 'sigmoid' ? tf.sigmoid(logits) : tf.softmax(logits);
  }

  /** Frees the graph model's weights (shared with every retargeted adapter). */
  dispose(): void {
    analyses.delete(this.model);
    this.model.dispose();
  }
}
