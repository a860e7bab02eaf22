/**
 * The ONNX project's own backend test cases (Debian's libonnx-testdata: `data/node/`, `data/pytorch-converted/`,
 * `data/pytorch-operator/`; each case a `model.onnx` with input and output TensorProtos in `test_data_set_N`),
 * run through the importer: a case is "not supported" when the importer refuses the model (an op or an
 * attribute it does not support, said by its message), else it must give the expected outputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OnnxGraph } from '../core/model/onnx/graph';
import { decodeOnnx, tensorOf } from '../core/model/onnx/proto';
import * as onnxProto from 'onnx-proto';
import { isStudioError } from '../shared/errors';
import { host, plainValue, tensorOfHost, type Value } from '../core/model/onnx/values';
import type { HostTensor } from '../core/model/onnx/host';

export const ONNX_TESTDATA = process.env['ONNX_TESTDATA'] ?? '/usr/share/libonnx-testdata/data';
export const TESTDATA_SUITES = ['node', 'pytorch-converted', 'pytorch-operator'] as const;

const protoModule = onnxProto as unknown as { onnx?: typeof onnxProto.onnx; default?: { onnx: typeof onnxProto.onnx } };
const onnx = protoModule.onnx ?? protoModule.default!.onnx;

export interface CaseResult {
  suite: string;
  name: string;
  ops: string[];
  status: 'passed' | 'failed' | 'not supported';
  /** Why it is not supported, or how it failed. */
  reason?: string;
  /** Max |got - expected| / max(1, max |expected|) over the outputs. */
  error?: number;
}

export const TOLERANCE = 1e-4;

/**
 * A test case's TensorProto. `declared`: the element type the graph gives it; ONNX test data written before
 * ONNX 1.11 stores bfloat16 values as uint16 tensors of their bits, read here as the bfloat16 they are.
 */
function readTensor(path: string, declared: number | undefined): HostTensor {
  const proto = onnx.TensorProto.decode(readFileSync(path));
  if (declared === 16 && proto.dataType === 4) proto.dataType = 16;
  return tensorOf(proto, path);
}

/** Runs one case directory. */
export async function runCase(suite: string, directory: string): Promise<CaseResult> {
  const name = directory.split('/').pop()!;
  let ops: string[] = [];
  let graph: OnnxGraph;
  try {
    const model = decodeOnnx(new Uint8Array(readFileSync(join(directory, 'model.onnx'))));
    ops = [...new Set(model.nodes.map((node) => node.opType))].sort();
    graph = new OnnxGraph(model);
  } catch (error) {
    return { suite, name, ops, status: 'not supported', reason: (error as Error).message };
  }
  try {
    const sets = readdirSync(directory)
      .filter((entry) => entry.startsWith('test_data_set_'))
      .sort();
    let worst = 0;
    for (const set of sets) {
      const files = readdirSync(join(directory, set));
      const count = (prefix: string): number => files.filter((file) => file.startsWith(prefix)).length;
      let inputs: HostTensor[];
      let expected: HostTensor[];
      try {
        inputs = Array.from({ length: count('input_') }, (_, i) =>
          readTensor(join(directory, set, `input_${i}.pb`), graph.model.inputs[i]?.elemType),
        );
        expected = Array.from({ length: count('output_') }, (_, i) =>
          readTensor(join(directory, set, `output_${i}.pb`), graph.model.outputs[i]?.elemType),
        );
      } catch (error) {
        if (isStudioError(error, 'unsupported-layer'))
          return { suite, name, ops, status: 'not supported', reason: (error as Error).message };
        throw error;
      }
      // Real models take their images as tensors; integer and scalar inputs (shapes, axes, indices, limits)
      // are host values, as they are when a model computes them from constants or shapes.
      const feeds = new Map<string, Value>();
      graph.model.inputs.forEach((info, i) => {
        const input = inputs[i];
        if (input === undefined) return;
        const parameter = input.dtype === 'int' || input.shape.length === 0;
        feeds.set(info.name, parameter ? host(input) : plainValue(tf.keep(tensorOfHost(input))));
      });
      const outputs = graph.model.outputs.map((info) => info.name);
      const tensors = tf.tidy(() => graph.run(feeds, outputs).map((value) => tf.keep(graph.plain(value))));
      try {
        for (const [i, tensor] of tensors.entries()) {
          const want = expected[i];
          if (want === undefined) continue;
          if (tensor.shape.join(',') !== want.shape.join(',')) {
            return {
              suite,
              name,
              ops,
              status: 'failed',
              reason: `output ${i}: shape [${tensor.shape.join(', ')}], expected [${want.shape.join(', ')}]`,
            };
          }
          const got = await tensor.data();
          let scale = 1;
          for (const v of want.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
          for (let k = 0; k < want.data.length; k += 1) {
            const a = Number(got[k]);
            const b = want.data[k]!;
            if (Number.isNaN(b) && Number.isNaN(a)) continue;
            if (!Number.isFinite(b) && a === b) continue;
            worst = Math.max(worst, Number.isNaN(a) ? Infinity : Math.abs(a - b) / scale);
          }
        }
      } finally {
        tf.dispose([...new Set([...tensors, ...[...feeds.values()].flatMap((value) => (value.kind === 'tensor' ? [value.tensor] : []))])]);
      }
    }
    return worst <= TOLERANCE
      ? { suite, name, ops, status: 'passed', error: worst }
      : { suite, name, ops, status: 'failed', reason: `max error ${worst.toExponential(2)} > ${TOLERANCE}`, error: worst };
  } catch (error) {
    return { suite, name, ops, status: 'failed', reason: (error as Error).message };
  } finally {
    graph.dispose();
  }
}

/** Every case directory of the suites, when the data is installed. */
export function testdataCases(): Array<{ suite: string; directory: string }> {
  if (!existsSync(ONNX_TESTDATA)) return [];
  return TESTDATA_SUITES.flatMap((suite) => {
    const root = join(ONNX_TESTDATA, suite);
    if (!existsSync(root)) return [];
    return readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'model.onnx')))
      .sort()
      .map((name) => ({ suite, directory: join(root, name) }));
  });
}
