/**
 * An ONNX graph made executable on TF.js: checked once when loaded (every op known and its attributes
 * supported, the opset in range), weights moved to TF.js's layout once, then run as ordinary TF.js ops from
 * any values to any values. Because it is ordinary TF.js ops, autodiff, every backend and every method work
 * unchanged; `run` is synchronous, so it can sit inside `tf.tidy` and `tf.grad`.
 *
 * Ownership: the graph owns its prepared weights and cached constants; `dispose()` frees them.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../../shared/errors';
import type { HostTensor } from './host';
import type { LoadInfo, OpSpec, RunContext } from './op';
import { ELEMENTWISE_OPS } from './ops-elementwise';
import { NN_OPS } from './ops-nn';
import { SHAPE_OPS } from './ops-shape';
import type { OnnxModelDef, OnnxNode } from './proto';
import { ConstantCache, host, nhwcTensor, plainTensor, type Value } from './values';

/** Every operator the importer runs, by ONNX op type (default domain). */
export const ONNX_OPS: Readonly<Record<string, OpSpec>> = { ...ELEMENTWISE_OPS, ...NN_OPS, ...SHAPE_OPS };

/** The opsets whose semantics the ops implement (torch.onnx exports 7 to 17; ONNX 1.12 defines up to 17). */
export const MIN_OPSET = 6;
export const MAX_OPSET = 18;

export class OnnxGraph {
  readonly opset: number;
  /** Nodes in topological order. */
  readonly nodes: readonly OnnxNode[];
  /** Initializers and the outputs of Constant nodes. */
  readonly constants: ReadonlyMap<string, HostTensor>;
  /** The node producing each value. */
  readonly producer: ReadonlyMap<string, OnnxNode>;
  readonly numParameters: number;
  private readonly prepared = new Map<OnnxNode, unknown>();
  private readonly kept: tf.Tensor[] = [];
  private readonly cache = new ConstantCache();
  private readonly plans = new Map<string, OnnxNode[]>();
  /** Each node's index in `nodes`. */
  private readonly position = new Map<OnnxNode, number>();
  private disposed = false;

  constructor(readonly model: OnnxModelDef) {
    this.opset = model.opset;
    if (model.opset < MIN_OPSET || model.opset > MAX_OPSET) {
      throw new StudioError(
        'unsupported-layer',
        `The ONNX model uses opset ${model.opset}; the studio supports opsets ${MIN_OPSET} to ${MAX_OPSET}. Export it again with torch.onnx.export(..., opset_version=13) (any of 7-17 works).`,
      );
    }
    const nonTensor = [...model.inputs, ...model.outputs].filter((info) => !info.isTensor);
    if (nonTensor.length > 0) {
      throw new StudioError(
        'unsupported-layer',
        `The ONNX graph's ${nonTensor.map((info) => `"${info.name}"`).join(', ')} is not a tensor (a sequence, map or optional): the studio takes tensors only.`,
      );
    }
    this.nodes = topologicalOrder(model);
    this.nodes.forEach((node, i) => this.position.set(node, i));
    const constants = new Map(model.initializers);
    const producer = new Map<string, OnnxNode>();
    for (const node of this.nodes) for (const output of node.outputs) if (output !== '') producer.set(output, node);
    this.producer = producer;
    this.constants = constants;
    // Constant folding: Constant nodes, and nodes whose inputs are all constants (Identity of an initializer,
    // shape arithmetic on constants), are computed now, so that later checks and `prepare` see the values.
    const context = this.context();
    for (const node of this.nodes) {
      const spec = node.domain === '' ? ONNX_OPS[node.opType] : undefined;
      if (spec === undefined || spec.prepare !== undefined) continue;
      const inputs = node.inputs.filter((name) => name !== '');
      if (node.opType !== 'Constant' && (inputs.length === 0 || !inputs.every((name) => constants.has(name)))) continue;
      if (spec.check?.(node, this.loadInfo(node)) !== null && spec.check !== undefined) continue;
      try {
        // Inside a tidy: a node that makes TF.js tensors (not foldable on the host) leaves nothing behind.
        tf.tidy(() => {
          const outputs = spec.run(
            node,
            node.inputs.map((name) => (name === '' ? null : host(constants.get(name)!))),
            context,
            null,
          );
          if (!outputs.every((value) => value.kind === 'host')) return;
          node.outputs.forEach((name, i) => {
            const value = outputs[i];
            if (name !== '' && value?.kind === 'host') constants.set(name, value.host);
          });
        });
      } catch {
        // left to run time, where its error names the node
      }
    }
    const unsupported: Array<{ what: string; node: string }> = [];
    for (const node of this.nodes) {
      if (node.outputs.every((name) => name === '' || constants.has(name))) continue; // folded
      const spec = node.domain === '' || node.domain === 'ai.onnx' ? ONNX_OPS[node.opType] : undefined;
      if (spec === undefined) {
        unsupported.push({ what: `${node.domain === '' ? '' : `${node.domain}.`}${node.opType}`, node: node.name });
        continue;
      }
      const reason = spec.check?.(node, this.loadInfo(node)) ?? null;
      if (reason !== null) unsupported.push({ what: `${node.opType} with ${reason}`, node: node.name });
    }
    if (unsupported.length > 0) {
      // One line per kind of problem, with its first node and how many there are.
      const kinds = new Map<string, { first: string; count: number }>();
      for (const { what, node } of unsupported) {
        const kind = kinds.get(what) ?? { first: node, count: 0 };
        kind.count += 1;
        kinds.set(what, kind);
      }
      const listed = [...kinds.entries()].map(
        ([what, { first, count }]) => `${what} (node "${first}"${count > 1 ? ` and ${count - 1} more` : ''})`,
      );
      throw new StudioError('unsupported-layer', `The ONNX model uses operators the studio does not support: ${listed.join('; ')}.`);
    }
    try {
      for (const node of this.nodes) {
        if (node.outputs.every((name) => name === '' || constants.has(name))) continue;
        const result = ONNX_OPS[node.opType]!.prepare?.(node, this.loadInfo(node)) ?? null;
        if (result === null) continue;
        this.prepared.set(node, result.data);
        this.kept.push(...result.tensors);
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
    this.numParameters = [...model.initializers.values()].reduce((sum, tensor) => sum + tensor.data.length, 0);
  }

  private loadInfo(node: OnnxNode): LoadInfo {
    return {
      opset: this.opset,
      constant: (index) =>
        node.inputs[index] === undefined || node.inputs[index] === '' ? null : (this.constants.get(node.inputs[index]!) ?? null),
    };
  }

  private context(): RunContext {
    return { opset: this.opset, constants: this.cache };
  }

  /** The nodes needed to compute `wanted` from `fed` (and the constants), in order; throws when one is missing. */
  plan(fed: readonly string[], wanted: readonly string[], cache = true): OnnxNode[] {
    const key = `${fed.join('\u0000')}\u0001${wanted.join('\u0000')}`;
    const cached = this.plans.get(key);
    if (cached !== undefined) return cached;
    const available = new Set([...fed, ...this.constants.keys()]);
    const needed = new Set<OnnxNode>();
    const visit = (name: string): void => {
      if (name === '' || available.has(name)) return;
      const node = this.producer.get(name);
      if (node === undefined)
        throw new StudioError('unknown-layer', `The value "${name}" cannot be computed from ${fed.map((f) => `"${f}"`).join(', ')}.`);
      if (needed.has(node)) return;
      needed.add(node);
      for (const input of node.inputs) visit(input);
    };
    for (const name of wanted) visit(name);
    const ordered = [...needed].sort((a, b) => this.position.get(a)! - this.position.get(b)!);
    if (cache) this.plans.set(key, ordered);
    return ordered;
  }

  /** True when `wanted` can be computed from `fed` and the constants alone. */
  computable(fed: readonly string[], wanted: readonly string[], cache = true): boolean {
    try {
      this.plan(fed, wanted, cache);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Runs the graph: `feeds` are values by name, the result the `wanted` values. Synchronous and made of
   * TF.js ops: call it inside `tf.tidy` (or `tf.grad`); the tensors of intermediate values are the caller's
   * tidy's to free.
   */
  run(feeds: ReadonlyMap<string, Value>, wanted: readonly string[]): Value[] {
    return this.trace(feeds, wanted);
  }

  /** As {@link run}, calling `visit` with every value computed (shape probing). */
  trace(feeds: ReadonlyMap<string, Value>, wanted: readonly string[], visit?: (name: string, value: Value) => void): Value[] {
    if (this.disposed) throw new StudioError('no-model', 'This ONNX model was unloaded.');
    const values = new Map<string, Value>(feeds);
    const context = this.context();
    const valueOf = (name: string): Value | null => {
      if (name === '') return null;
      const known = values.get(name);
      if (known !== undefined) return known;
      const constant = this.constants.get(name);
      if (constant !== undefined) return host(constant);
      throw new StudioError('unknown-layer', `The value "${name}" was not computed.`);
    };
    for (const node of this.plan([...feeds.keys()], wanted)) {
      const outputs = ONNX_OPS[node.opType]!.run(node, node.inputs.map(valueOf), context, this.prepared.get(node));
      node.outputs.forEach((name, i) => {
        if (name === '' || outputs[i] === undefined) return;
        values.set(name, outputs[i]!);
        visit?.(name, outputs[i]!);
      });
    }
    return wanted.map((name) => valueOf(name)!);
  }

  /** Keeps a tensor for the life of the graph (disposed with it). */
  own<T extends tf.Tensor>(tensor: T): T {
    this.kept.push(tf.keep(tensor));
    return tensor;
  }

  /** A value as a TF.js tensor in ONNX's layout (graph outputs). */
  plain(value: Value): tf.Tensor {
    return plainTensor(value, this.cache);
  }

  /** A value as an NHWC 4-D TF.js tensor (image maps). */
  channelsLast(value: Value): tf.Tensor4D {
    return nhwcTensor(value, this.cache);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(this.kept);
    this.kept.length = 0;
    this.cache.dispose();
  }
}

/** Kahn's order of the nodes (ONNX requires it already, but exporters are not always careful). */
function topologicalOrder(model: OnnxModelDef): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const node of model.nodes) for (const output of node.outputs) if (output !== '') producer.set(output, node);
  const done = new Set<OnnxNode>();
  const visiting = new Set<OnnxNode>();
  const order: OnnxNode[] = [];
  const visit = (node: OnnxNode): void => {
    if (done.has(node)) return;
    if (visiting.has(node)) throw new StudioError('model-json-invalid', `The ONNX graph has a cycle through node "${node.name}".`);
    visiting.add(node);
    for (const input of node.inputs) {
      const before = producer.get(input);
      if (before !== undefined) visit(before);
    }
    visiting.delete(node);
    done.add(node);
    order.push(node);
  };
  model.nodes.forEach(visit);
  return order;
}
