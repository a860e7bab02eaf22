/**
 * Model surgery on ONNX graphs: the same contract as the TF.js adapters (../classifier.ts), so that the
 * methods never know which format a model came from.
 *
 * - Input / output: the graph's single image input (`[N, C, H, W]`, C 1 or 3, H and W fixed; the batch may
 *   be symbolic) fed as the studio's NHWC input without a transpose (values.ts: NHWC maps), and its single
 *   output. A final Softmax / LogSoftmax / Sigmoid (behind Identity nodes) is peeled off: its input is the
 *   logits, and the head's activation is recorded; otherwise the output is taken as linear logits.
 * - Target: any 4-D value with a spatial extent (`h * w > 1`) from which the logits can be computed with
 *   the constants alone, i.e. every path from the input to the output passes through it. Shapes come from
 *   one execution on zeros. The default is the last such value in topological order (for torchvision's
 *   classifiers, the output of the last block).
 * - Head kind: `gap-dense` when the nodes between the target and the logits are exactly a global average
 *   pool (`GlobalAveragePool`, or `ReduceMean` over H and W; Identity, Flatten, Reshape, Squeeze around it)
 *   followed by a `Gemm` / `MatMul` with a constant weight (and a constant bias): `classWeights` is that
 *   weight as `W: [K, L]`. Otherwise `generic`: gradient methods go through autodiff of the head.
 *
 * Ownership: the adapter owns the OnnxGraph; `dispose()` frees it. Adapters made by `retarget` share the
 * graph (and its analysis); dispose only one of them.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../../shared/errors';
import type { HeadActivation, HeadKind } from '../../../shared/model-metadata';
import type { Classifier, ForwardPass, TargetLayerChoice } from '../classifier';
import { type OnnxGraph } from './graph';
import { valuesOf, type HostTensor } from './host';
import { gemmWeights } from './ops-nn';
import type { OnnxNode } from './proto';
import { nhwcValue, onnxShape, type Value } from './values';

/** What does not depend on the target: computed once per graph and shared by its retargets. */
interface OnnxAnalysis {
  inputName: string;
  /** `[H, W, C]` */
  inputShape: [number, number, number];
  logitsName: string;
  headActivation: HeadActivation;
  numClasses: number;
  /** Usable targets in topological order, with their `[h, w, K]`. */
  candidates: TargetLayerChoice[];
  /** The class weights of each target whose head is GAP -> dense (null: another head), owned by the graph. */
  classWeights: Map<string, tf.Tensor2D | null>;
}

const analyses = new WeakMap<OnnxGraph, OnnxAnalysis>();

/** Ops that only pass their first input on. */
const PASS_THROUGH = new Set(['Identity', 'Dropout']);

function analyse(graph: OnnxGraph): OnnxAnalysis {
  const known = analyses.get(graph);
  if (known !== undefined) return known;
  const { inputs, outputs } = graph.model;
  if (inputs.length !== 1) {
    throw new StudioError(
      'multiple-inputs',
      `The ONNX model has ${inputs.length} inputs (${inputs.map((info) => `"${info.name}"`).join(', ')}); the studio explains single-image classifiers.`,
    );
  }
  if (outputs.length !== 1) {
    throw new StudioError(
      'multiple-outputs',
      `The ONNX model has ${outputs.length} outputs (${outputs.map((info) => `"${info.name}"`).join(', ')}); the studio explains single-output classifiers.`,
    );
  }
  const input = inputs[0]!;
  const shape = input.shape;
  const channels = shape?.[1];
  if (
    shape === null ||
    shape.length !== 4 ||
    (channels !== 1 && channels !== 3) ||
    shape[2] === null ||
    shape[3] === null ||
    input.elemType !== 1
  ) {
    const shown = shape === null ? 'an unknown shape' : `shape [${shape.map((size) => size ?? '?').join(', ')}]`;
    throw new StudioError(
      'bad-input-rank',
      `The ONNX model's input "${input.name}" has ${shown}${input.elemType !== 1 ? ' and is not float32' : ''}; the studio needs a float32 image input [batch, 1 or 3, height, width] with a fixed height and width (export with torch.randn(1, 3, H, W); only the batch may be dynamic).`,
    );
  }
  const inputShape: [number, number, number] = [shape[2]!, shape[3]!, channels];

  // Logits: peel pass-through nodes off the output, then a final Softmax / LogSoftmax / Sigmoid.
  let logitsName = outputs[0]!.name;
  let headActivation: HeadActivation = 'linear';
  let node = graph.producer.get(logitsName);
  while (node !== undefined && PASS_THROUGH.has(node.opType)) {
    logitsName = node.inputs[0]!;
    node = graph.producer.get(logitsName);
  }
  if (node !== undefined && ['Softmax', 'LogSoftmax', 'Sigmoid'].includes(node.opType)) {
    headActivation = node.opType === 'Sigmoid' ? 'sigmoid' : 'softmax';
    logitsName = node.inputs[0]!;
  }
  if (!graph.computable([input.name], [logitsName]))
    throw new StudioError('model-build-failed', `The ONNX model's output does not depend on its input "${input.name}".`);

  // One execution on zeros gives every value's shape (and the number of classes).
  const plan = graph.plan([input.name], [logitsName]);
  const shapes = new Map<string, number[]>();
  tf.tidy(() => {
    const zeros = tf.zeros([1, ...inputShape]);
    graph.trace(new Map<string, Value>([[input.name, nhwcValue(zeros)]]), [logitsName], (name, value) => {
      if (value.kind === 'tensor' && value.tensor.dtype === 'float32') shapes.set(name, onnxShape(value));
    });
  });
  const logitsShape = shapes.get(logitsName);
  if (logitsShape === undefined || logitsShape.length !== 2 || logitsShape[0] !== 1) {
    throw new StudioError(
      'model-build-failed',
      `The ONNX model's logits "${logitsName}" have shape [${(logitsShape ?? []).join(', ')}]; a classifier gives [batch, classes].`,
    );
  }
  const candidates: TargetLayerChoice[] = [];
  for (const step of plan) {
    for (const name of step.outputs) {
      const valueShape = shapes.get(name);
      if (valueShape === undefined || valueShape.length !== 4 || valueShape[2]! * valueShape[3]! <= 1) continue;
      if (!graph.computable([name], [logitsName], false)) continue;
      candidates.push({ name, shape: [valueShape[2]!, valueShape[3]!, valueShape[1]!] });
    }
  }
  if (candidates.length === 0) {
    throw new StudioError(
      'no-conv-layer',
      'The ONNX model has no 4-D (convolutional) map that every path to its output passes through: CAM-style methods need one.',
    );
  }
  const analysis: OnnxAnalysis = {
    inputName: input.name,
    inputShape,
    logitsName,
    headActivation,
    numClasses: logitsShape[1]!,
    candidates,
    classWeights: new Map(),
  };
  analyses.set(graph, analysis);
  return analysis;
}

export interface OnnxClassifierOptions {
  /** A target value name; the default is the last usable 4-D map. */
  targetLayer?: string;
  /** Adapters made by `retarget` share the graph and do not own it. */
  owner?: boolean;
}

export class OnnxClassifierAdapter implements Classifier {
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly numParameters: number;
  readonly targetLayer: string;
  readonly targetShape: [number, number, number];
  readonly candidates: TargetLayerChoice[];
  readonly headKind: HeadKind;
  readonly headActivation: HeadActivation;
  readonly classWeights: tf.Tensor2D | null;
  private readonly analysis: OnnxAnalysis;
  private readonly owner: boolean;

  constructor(
    readonly graph: OnnxGraph,
    options: OnnxClassifierOptions = {},
  ) {
    this.analysis = analyse(graph);
    this.owner = options.owner ?? true;
    this.inputShape = this.analysis.inputShape;
    this.numClasses = this.analysis.numClasses;
    this.numParameters = graph.numParameters;
    this.candidates = this.analysis.candidates;
    this.headActivation = this.analysis.headActivation;
    const fallback = this.candidates[this.candidates.length - 1]!;
    const requested = options.targetLayer;
    const choice = requested === undefined ? fallback : this.candidates.find((candidate) => candidate.name === requested);
    if (choice === undefined) {
      const shown = this.candidates
        .slice(-8)
        .map((candidate) => candidate.name)
        .join(', ');
      throw new StudioError(
        'unknown-layer',
        graph.producer.has(requested!)
          ? `The value "${requested}" is not a usable target: choose a 4-D map that every path from the input to the output passes through, e.g. ${shown} (default: ${fallback.name}).`
          : `The ONNX graph has no value named "${requested}". Usable targets: ${shown}${this.candidates.length > 8 ? ` (and ${this.candidates.length - 8} earlier ones)` : ''} (default: ${fallback.name}).`,
      );
    }
    this.targetLayer = choice.name;
    this.targetShape = choice.shape as [number, number, number];
    this.classWeights = this.findGapDenseWeights();
    this.headKind = this.classWeights === null ? 'generic' : 'gap-dense';
  }

  /** The head's nodes, from the target to the logits, in order. */
  private headNodes(): OnnxNode[] {
    return this.graph.plan([this.targetLayer], [this.analysis.logitsName]);
  }

  /**
   * `W: [K, L]` when the head is a global average pool then one dense layer (see the module comment), kept
   * by the graph (so that retargets, which are dropped rather than disposed, leak nothing); else null.
   */
  private findGapDenseWeights(): tf.Tensor2D | null {
    const cached = this.analysis.classWeights.get(this.targetLayer);
    if (cached !== undefined) return cached;
    const weights = this.gapDenseWeights();
    const tensor = weights === null ? null : this.graph.own(tf.tensor2d(weights.data as Float32Array, weights.shape as [number, number]));
    this.analysis.classWeights.set(this.targetLayer, tensor);
    return tensor;
  }

  private gapDenseWeights(): HostTensor | null {
    const reshapes = new Set(['Flatten', 'Reshape', 'Squeeze']);
    const shapeArithmetic = new Set(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Constant', 'Cast', 'Slice', 'Size']);
    let stage: 'pool' | 'reshape' | 'bias' | 'done' = 'pool';
    let weights: HostTensor | null = null;
    for (const node of this.headNodes()) {
      if (PASS_THROUGH.has(node.opType) || shapeArithmetic.has(node.opType)) continue;
      if (stage === 'pool') {
        const isGap = node.opType === 'GlobalAveragePool' || (node.opType === 'ReduceMean' && this.reduceAxes(node).join() === '2,3');
        if (!isGap) return null;
        stage = 'reshape';
      } else if (stage === 'reshape' && reshapes.has(node.opType)) {
        continue;
      } else if (stage === 'reshape') {
        weights = gemmWeights(node, { constant: (index) => this.graph.constants.get(node.inputs[index] ?? '') ?? null });
        if (weights === null) return null;
        stage = 'bias';
      } else if (stage === 'bias' && node.opType === 'Add' && node.inputs.some((name) => this.graph.constants.has(name))) {
        stage = 'done';
      } else {
        return null;
      }
    }
    if (weights === null || weights.shape[0] !== this.targetShape[2] || weights.shape[1] !== this.numClasses) return null;
    return weights;
  }

  private reduceAxes(node: OnnxNode): number[] {
    const axes = node.attributes.get('axes');
    const fromInput = node.inputs[1] !== undefined ? this.graph.constants.get(node.inputs[1]) : undefined;
    const list = Array.isArray(axes) ? (axes as number[]) : fromInput !== undefined ? valuesOf(fromInput) : [];
    return list.map((axis) => (axis < 0 ? axis + 4 : axis)).sort();
  }

  forward(input: tf.Tensor4D): ForwardPass {
    return tf.tidy(() => {
      const [target, logits] = this.graph.run(new Map([[this.analysis.inputName, nhwcValue(input)]]), [
        this.targetLayer,
        this.analysis.logitsName,
      ]);
      return { activations: this.graph.channelsLast(target!), logits: this.graph.plain(logits!) as tf.Tensor2D };
    });
  }

  headLogits(activations: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const [logits] = this.graph.run(new Map([[this.targetLayer, nhwcValue(activations)]]), [this.analysis.logitsName]);
      return this.graph.plain(logits!) as tf.Tensor2D;
    });
  }

  logitsOf(input: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const [logits] = this.graph.run(new Map([[this.analysis.inputName, nhwcValue(input)]]), [this.analysis.logitsName]);
      return this.graph.plain(logits!) as tf.Tensor2D;
    });
  }

  probabilities(logits: tf.Tensor2D): tf.Tensor2D {
    return this.headActivation === 'sigmoid' ? tf.sigmoid(logits) : tf.softmax(logits);
  }

  retarget(targetLayer: string): Classifier {
    return new OnnxClassifierAdapter(this.graph, { targetLayer, owner: false });
  }

  dispose(): void {
    if (this.owner) this.graph.dispose();
  }
}
