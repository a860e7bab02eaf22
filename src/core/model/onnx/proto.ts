/**
 * Reading an ONNX file (a `ModelProto`, protobuf) with onnx-proto (the ONNX schema compiled for protobufjs'
 * minimal runtime) into plain structures the importer works on: the default-domain opset, the graph's nodes
 * with their attributes, its inputs and outputs, and its initializers as host tensors. Nothing here touches
 * TF.js: tensors are made from these later, once (graph.ts).
 *
 * Weights kept in external data files (`external_data`: location, offset, length) are read from the files
 * given with the model. Refused with a message naming the cause: bytes that are not an ONNX model, an
 * external data file not given (or too short), tensor types the studio cannot hold (strings, complex numbers).
 */
import { checkFiniteWeights } from '../finite';
import * as onnxProto from 'onnx-proto';
import { StudioError } from '../../../shared/errors';
import { bfloat16BitsToNumber, float16BitsToNumber } from './half';
import { hostTensor, type HostDType, type HostTensor } from './host';

// onnx-proto is CommonJS (`module.exports = { onnx }`): bundlers expose `onnx` by name, Node only as default.
const protoModule = onnxProto as unknown as { onnx?: typeof onnxProto.onnx; default?: { onnx: typeof onnxProto.onnx } };
const onnx = protoModule.onnx ?? protoModule.default!.onnx;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** A protobuf int64 as protobufjs gives it (a Long, or a number when small). */
type Int64 = number | { toNumber(): number } | null | undefined;
const int = (value: Int64): number => (value === null || value === undefined ? 0 : typeof value === 'number' ? value : value.toNumber());

export type AttributeValue = number | string | number[] | string[] | HostTensor | null;

export interface OnnxNode {
  /** The node's name, or `<op>_<index>` when the file gives none (messages name it). */
  name: string;
  opType: string;
  domain: string;
  /** Input value names; '' for an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

export interface OnnxValueInfo {
  name: string;
  /** False for sequences, maps and optionals (the importer takes tensors only). */
  isTensor: boolean;
  /** Dimensions; null for a symbolic or unknown one (the batch). */
  shape: Array<number | null> | null;
  elemType: number;
}

export interface OnnxModelDef {
  irVersion: number;
  /** The default domain's opset version. */
  opset: number;
  producer: string;
  nodes: OnnxNode[];
  /** Graph inputs that are not initializers (what the caller feeds). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: Map<string, HostTensor>;
}

/** ONNX TensorProto.DataType values. */
const DATA_TYPES: Record<number, { name: string; dtype?: HostDType }> = {
  1: { name: 'float32', dtype: 'float32' },
  2: { name: 'uint8', dtype: 'int' },
  3: { name: 'int8', dtype: 'int' },
  4: { name: 'uint16', dtype: 'int' },
  5: { name: 'int16', dtype: 'int' },
  6: { name: 'int32', dtype: 'int' },
  7: { name: 'int64', dtype: 'int' },
  8: { name: 'string' },
  9: { name: 'bool', dtype: 'bool' },
  10: { name: 'float16', dtype: 'float32' },
  11: { name: 'float64', dtype: 'float32' },
  12: { name: 'uint32', dtype: 'int' },
  13: { name: 'uint64', dtype: 'int' },
  14: { name: 'complex64' },
  15: { name: 'complex128' },
  16: { name: 'bfloat16', dtype: 'float32' },
};

export function dataTypeName(type: number): string {
  return DATA_TYPES[type]?.name ?? `type ${type}`;
}

/** The bytes of a protobuf `bytes` field as a standalone buffer (protobufjs returns views into the file). */
function ownBytes(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * The external data files that tensors of an ONNX model keep their values in (torch.onnx.export writes them
 * beside the .onnx for models over 2 GB, or when asked), by the name the model gives them.
 */
export type ExternalData = ReadonlyMap<string, ArrayBuffer>;

function externalEntry(proto: TensorProto, key: string): string | undefined {
  return proto.externalData?.find((entry) => entry.key === key)?.value ?? undefined;
}

function keepsExternalData(proto: TensorProto): boolean {
  return proto.dataLocation === 1 || (proto.externalData?.length ?? 0) > 0;
}

/** The bytes of `proto`'s values in its external data file (its location, offset and length entries). */
function externalBytes(proto: TensorProto, what: string, external: ExternalData): ArrayBuffer {
  const location = externalEntry(proto, 'location') ?? 'another file';
  const file = external.get(location);
  if (file === undefined) {
    throw new StudioError(
      'missing-shard',
      `${what} keeps its weights in an external data file (${location}), which was not given: give it together with the .onnx file (drop or open both, or put it beside the URL), or export with the weights inside the .onnx file (torch.onnx.export's default below 2 GB).`,
    );
  }
  const offset = Number(externalEntry(proto, 'offset') ?? '0');
  const length = externalEntry(proto, 'length') === undefined ? file.byteLength - offset : Number(externalEntry(proto, 'length'));
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > file.byteLength) {
    throw new StudioError(
      'shard-size-mismatch',
      `${what} lies at bytes ${offset}..${offset + length} of ${location}, which holds ${file.byteLength} bytes: the data file is truncated or belongs to another export.`,
    );
  }
  return file.slice(offset, offset + length);
}

/** A TensorProto as a host tensor (float16/64 and bfloat16 become float32; every integer type a JS number). */
export function tensorOf(proto: TensorProto, what: string, external: ExternalData = new Map()): HostTensor {
  const type = proto.dataType ?? 0;
  const info = DATA_TYPES[type];
  const shape = (proto.dims ?? []).map((dim) => int(dim as Int64));
  const count = shape.reduce((product, size) => product * size, 1);
  if (info?.dtype === undefined)
    throw new StudioError('unsupported-layer', `${what} holds ${dataTypeName(type)} values, which the studio cannot compute with.`);
  const raw = keepsExternalData(proto)
    ? externalBytes(proto, what, external)
    : proto.rawData && proto.rawData.length > 0
      ? ownBytes(proto.rawData)
      : null;
  let values: ArrayLike<number>;
  if (raw !== null) {
    const view = new DataView(raw);
    const read = (size: number, get: (offset: number) => number): number[] =>
      Array.from({ length: raw.byteLength / size }, (_, i) => get(i * size));
    switch (type) {
      case 1:
        values = new Float32Array(raw);
        break;
      case 11:
        values = read(8, (o) => view.getFloat64(o, true));
        break;
      case 10:
        values = read(2, (o) => float16BitsToNumber(view.getUint16(o, true)));
        break;
      case 16:
        values = read(2, (o) => bfloat16BitsToNumber(view.getUint16(o, true)));
        break;
      case 2:
        values = new Uint8Array(raw);
        break;
      case 3:
        values = new Int8Array(raw);
        break;
      case 4:
        values = read(2, (o) => view.getUint16(o, true));
        break;
      case 5:
        values = read(2, (o) => view.getInt16(o, true));
        break;
      case 6:
        values = new Int32Array(raw);
        break;
      case 12:
        values = read(4, (o) => view.getUint32(o, true));
        break;
      case 7:
        values = read(8, (o) => Number(view.getBigInt64(o, true)));
        break;
      case 13:
        values = read(8, (o) => Number(view.getBigUint64(o, true)));
        break;
      case 9:
        values = new Uint8Array(raw);
        break;
      default:
        throw new StudioError('unsupported-layer', `${what} holds ${dataTypeName(type)} values, which the studio cannot compute with.`);
    }
  } else if (type === 1) values = proto.floatData ?? [];
  else if (type === 11) values = proto.doubleData ?? [];
  else if (type === 7) values = (proto.int64Data ?? []).map((v) => int(v as Int64));
  else if (type === 12 || type === 13) values = (proto.uint64Data ?? []).map((v) => int(v as Int64));
  else if (type === 10) values = (proto.int32Data ?? []).map(float16BitsToNumber);
  else if (type === 16) values = (proto.int32Data ?? []).map(bfloat16BitsToNumber);
  else values = proto.int32Data ?? [];
  if (values.length !== count) {
    throw new StudioError(
      'model-json-invalid',
      `${what} has ${values.length} values but its shape [${shape.join(', ')}] needs ${count}: the file is damaged.`,
    );
  }
  return hostTensor(info.dtype, shape, values);
}

function attributeOf(attribute: AttributeProto, what: string): AttributeValue {
  switch (attribute.type) {
    case 1:
      return attribute.f ?? 0;
    case 2:
      return int(attribute.i as Int64);
    case 3:
      return new TextDecoder().decode(attribute.s ?? new Uint8Array(0));
    case 4:
      return attribute.t ? tensorOf(attribute.t, `${what} attribute ${attribute.name}`) : null;
    case 6:
      return [...(attribute.floats ?? [])];
    case 7:
      return (attribute.ints ?? []).map((v) => int(v as Int64));
    case 8:
      return (attribute.strings ?? []).map((bytes) => new TextDecoder().decode(bytes));
    default:
      return null; // graphs, sparse tensors, type protos: no op the importer supports reads them
  }
}

function valueInfoOf(info: onnxProto.onnx.IValueInfoProto): OnnxValueInfo {
  const tensorType = info.type?.tensorType;
  const dims = tensorType?.shape?.dim;
  return {
    name: info.name ?? '',
    isTensor: tensorType !== null && tensorType !== undefined,
    shape:
      dims === undefined || dims === null
        ? null
        : dims.map((dim) =>
            dim.dimValue !== undefined && dim.dimValue !== null && int(dim.dimValue as Int64) > 0 ? int(dim.dimValue as Int64) : null,
          ),
    elemType: tensorType?.elemType ?? 0,
  };
}

/** Reads an ONNX file's protobuf; refuses bytes that are not an ONNX model. */
export function parseOnnx(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new StudioError(
      'model-json-invalid',
      `This file is not an ONNX model (it could not be read as one: ${(error as Error).message}).`,
    );
  }
  if (model.graph === null || model.graph === undefined || (model.graph.node?.length ?? 0) === 0) {
    throw new StudioError('model-json-invalid', 'This file is not an ONNX model: it holds no graph.');
  }
  return model;
}

/**
 * The external data files the model's initializers name, each a plain file name beside the .onnx (a
 * location with a folder in it is refused: the studio reads only files given with the model).
 */
export function externalDataFiles(model: onnxProto.onnx.ModelProto): string[] {
  const files = new Set<string>();
  for (const tensor of model.graph?.initializer ?? []) {
    if (!keepsExternalData(tensor)) continue;
    const location = externalEntry(tensor, 'location') ?? '';
    if (location === '' || /[/\\]/.test(location) || location === '..' || location === '.') {
      throw new StudioError(
        'model-json-invalid',
        `The initializer "${tensor.name ?? ''}" keeps its weights in "${location}", which is not a file name beside the .onnx file.`,
      );
    }
    files.add(location);
  }
  return [...files];
}

/** Decodes an ONNX file; `external` holds the external data files that its initializers name (externalDataFiles). */
export function decodeOnnx(bytes: Uint8Array | onnxProto.onnx.ModelProto, external: ExternalData = new Map()): OnnxModelDef {
  const model = bytes instanceof Uint8Array ? parseOnnx(bytes) : bytes;
  const graph = model.graph!;
  const opset = model.opsetImport.find((entry) => (entry.domain ?? '') === '' || entry.domain === 'ai.onnx');
  const initializers = new Map<string, HostTensor>();
  for (const tensor of graph.initializer ?? [])
    initializers.set(tensor.name ?? '', tensorOf(tensor, `The initializer "${tensor.name ?? ''}"`, external));
  checkFiniteWeights(
    [...initializers]
      .filter(([, tensor]) => tensor.dtype === 'float32')
      .map(([name, tensor]) => ({ name, values: tensor.data as Float32Array })),
  );
  const nodes = (graph.node ?? []).map((node, index): OnnxNode => {
    const opType = node.opType ?? '';
    const name = node.name !== undefined && node.name !== null && node.name !== '' ? node.name : `${opType}_${index}`;
    return {
      name,
      opType,
      domain: node.domain ?? '',
      inputs: [...(node.input ?? [])],
      outputs: [...(node.output ?? [])],
      attributes: new Map(
        (node.attribute ?? []).map((attribute) => [attribute.name ?? '', attributeOf(attribute, `Node "${name}" (${opType})`)]),
      ),
    };
  });
  return {
    irVersion: int(model.irVersion as Int64),
    opset: opset === undefined ? 1 : int(opset.version as Int64),
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
    nodes,
    inputs: (graph.input ?? []).map(valueInfoOf).filter((info) => !initializers.has(info.name)),
    outputs: (graph.output ?? []).map(valueInfoOf),
    initializers,
  };
}
