/**
 * What an ONNX operator implementation is, and helpers every one uses: attribute reading, and the
 * per-graph context (the opset, the cache of constants).
 */
import type * as tf from '@tensorflow/tfjs';
import type { HostTensor } from './host';
import type { AttributeValue, OnnxNode } from './proto';
import type { ConstantCache, Value } from './values';

export interface RunContext {
  opset: number;
  constants: ConstantCache;
}

/** What an op may look at when the graph is loaded. */
export interface LoadInfo {
  opset: number;
  /** Input `index` when it is a constant (an initializer or a Constant node's output), else null. */
  constant(index: number): HostTensor | null;
}

export interface OpSpec {
  /** Why this node cannot run (an attribute or input the importer does not support), or null. */
  check?(node: OnnxNode, info: LoadInfo): string | null;
  /**
   * Work done once when the graph is loaded (weights moved to TF.js's layout). Tensors it makes are kept
   * (`tf.keep`) and listed in `tensors`, which the graph disposes with itself.
   */
  prepare?(node: OnnxNode, info: LoadInfo): { data: unknown; tensors: tf.Tensor[] } | null;
  /** Runs the node: one value per output (inputs are null where the node omits an optional one). */
  run(node: OnnxNode, inputs: Array<Value | null>, context: RunContext, prepared: unknown): Value[];
}

export type OpTable = Record<string, OpSpec>;

function attribute(node: OnnxNode, name: string): AttributeValue | undefined {
  return node.attributes.get(name);
}

export function attrInt(node: OnnxNode, name: string, fallback: number): number {
  const value = attribute(node, name);
  return typeof value === 'number' ? value : fallback;
}

export const attrFloat = attrInt;

export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const value = attribute(node, name);
  return Array.isArray(value) && value.every((item) => typeof item === 'number') ? (value as number[]) : undefined;
}

export function attrString(node: OnnxNode, name: string, fallback: string): string {
  const value = attribute(node, name);
  return typeof value === 'string' ? value : fallback;
}

export function attrTensor(node: OnnxNode, name: string): HostTensor | null {
  const value = attribute(node, name);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

/** Normalises a (possibly negative) axis for a rank. */
export const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The first output of an op that has one. */
export const one = (value: Value): Value[] => [value];
