/**
 * ONNX models the studio cannot use get a message naming the cause (e2e/fixtures/onnx/bad/, made by
 * scripts/onnx/make-fixtures.py): an unsupported operator (its type and node name), an opset outside the
 * supported range, weights in an external data file that was not given, a non-image input, several inputs,
 * bytes that are not an ONNX model. And float16 weights are converted: the tiny ResNeXt in float16 gives the
 * float32 model's logits and maps to float16's precision.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../../node/backend';
import { loadClassifierFromDirectory, readFloat32 } from '../../../node/files';
import { isStudioError, type StudioErrorCode } from '../../../shared/errors';
import { maxAbsDifference } from '../../../testing/golden';
import { disposeMethodMaps, explain } from '../../methods/explain';
import { loadOnnxClassifier } from '../load';
import { decodeOnnx, parseOnnx } from './proto';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', '..', 'e2e', 'fixtures', 'onnx');
const noSiblings = (): Promise<null> => Promise.resolve(null);

beforeAll(async () => {
  await initNodeBackend('wasm');
});

async function refusal(bytes: Uint8Array): Promise<{ code: string; message: string }> {
  const before = tf.memory().numTensors;
  try {
    const loaded = await loadOnnxClassifier(bytes.slice().buffer, noSiblings);
    loaded.adapter.dispose();
  } catch (error) {
    expect(tf.memory().numTensors, 'a refused model leaves no tensor').toBe(before);
    if (!isStudioError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('the model loaded');
}

describe('ONNX models the studio refuses', () => {
  const cases: Array<{ fixture: string; code: StudioErrorCode; message: RegExp }> = [
    {
      fixture: 'unsupported-op',
      code: 'unsupported-layer',
      message: /operators the studio does not support: GridSample \(node "\/stn\/GridSample"\)/,
    },
    { fixture: 'opset-19', code: 'unsupported-layer', message: /uses opset 19; the studio supports opsets 6 to 18/ },
    {
      fixture: 'vector-input',
      code: 'bad-input-rank',
      message: /input "features" has shape \[\?, 8\]; the studio needs a float32 image input/,
    },
    { fixture: 'two-inputs', code: 'multiple-inputs', message: /2 inputs \("image", "mask"\)/ },
  ];
  it.each(cases)('$fixture: $code', async ({ fixture, code, message }) => {
    const refused = await refusal(new Uint8Array(readFileSync(join(FIXTURES, 'bad', `${fixture}.onnx`))));
    expect(refused.message).toMatch(message);
    expect(refused.code).toBe(code);
  });

  it('weights holding NaN: refused, naming the initializer (issue #17)', async () => {
    const proto = parseOnnx(new Uint8Array(readFileSync(join(FIXTURES, 'tiny-resnext', 'model.onnx'))));
    const initializer = proto.graph!.initializer!.find((tensor) => tensor.dataType === 1 && (tensor.rawData?.length ?? 0) >= 8)!;
    const raw = new Uint8Array(initializer.rawData!);
    new DataView(raw.buffer, raw.byteOffset, raw.byteLength).setFloat32(4, Number.NaN, true);
    initializer.rawData = raw;
    expect(() => decodeOnnx(proto, new Map())).toThrow(
      new RegExp(
        `1 NaN or infinite value, in "${initializer.name!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" \\(1 of \\d+ values, first at index 1: NaN\\)`,
      ),
    );
  });

  it('weights in an external data file: read when given beside the .onnx, asked for when not, checked for length', async () => {
    const directory = join(FIXTURES, 'external');
    const bytes = new Uint8Array(readFileSync(join(directory, 'model.onnx')));
    const missing = await refusal(bytes);
    expect(missing.code).toBe('missing-shard');
    expect(missing.message).toMatch(/"conv\.weight" keeps its weights in an external data file \(model\.onnx\.data\), which was not given/);
    const data = readFileSync(join(directory, 'model.onnx.data'));
    const short = data.subarray(0, data.length - 16);
    const truncated = await loadOnnxClassifier(bytes.slice().buffer, (file) =>
      Promise.resolve(file === 'model.onnx.data' ? new Uint8Array(short).buffer : null),
    ).then(
      () => null,
      (error: unknown) => error as Error,
    );
    expect(truncated?.name).toBe('shard-size-mismatch');
    expect(truncated?.message).toMatch(/of model\.onnx\.data, which holds 992 bytes: the data file is truncated/);
    const loaded = await loadClassifierFromDirectory(directory);
    try {
      expect(loaded.adapter.inputShape).toEqual([16, 16, 3]);
      expect(loaded.adapter.numClasses).toBe(4);
      expect(loaded.adapter.headKind).toBe('gap-dense');
    } finally {
      loaded.adapter.dispose();
    }
  });

  it('bytes that are not an ONNX model, or a truncated one', async () => {
    const whole = new Uint8Array(readFileSync(join(FIXTURES, 'tiny-resnext', 'model.onnx')));
    for (const bytes of [whole.subarray(0, Math.floor(whole.length / 2)), new TextEncoder().encode('{"format": "layers-model"}')]) {
      const refused = await refusal(bytes);
      expect(refused.code).toBe('model-json-invalid');
      expect(refused.message).toMatch(/not an ONNX model/);
    }
  });
});

describe('float16 weights', () => {
  it('are converted: the float16 tiny ResNeXt gives the float32 logits and maps to float16 precision', async () => {
    const directory = join(FIXTURES, 'fp16');
    const reference = JSON.parse(readFileSync(join(directory, 'reference.json'), 'utf8')) as {
      label: number;
      logits: number[];
      cam: number[];
      gradcam: number[];
    };
    const loaded = await loadClassifierFromDirectory(directory);
    const adapter = loaded.adapter;
    try {
      const [height, width, channels] = adapter.inputShape;
      const input = tf.tensor4d(readFloat32(join(directory, 'input.f32')), [1, height, width, channels]);
      const before = tf.memory().numTensors;
      const forward = adapter.forward(input);
      const logits = Array.from(await forward.logits.data());
      const range = Math.max(...reference.logits) - Math.min(...reference.logits);
      const error = maxAbsDifference(logits, reference.logits) / range;
      // float16 carries 11 significant bits (2^-11 = 4.9e-4 relative); a few layers of it add up.
      expect(error).toBeLessThan(1e-2);
      expect(error, 'float16 arithmetic is emulated, not float32 passed through').toBeGreaterThan(1e-6);
      const maps = await explain(adapter, input, forward, { labels: [reference.label], methods: ['cam', 'gradcam'] });
      try {
        expect(maxAbsDifference((await maps[0]!.normalized.data()) as Float32Array, reference.cam)).toBeLessThan(2e-2);
        expect(maxAbsDifference((await maps[1]!.normalized.data()) as Float32Array, reference.gradcam)).toBeLessThan(2e-2);
      } finally {
        maps.forEach(disposeMethodMaps);
      }
      tf.dispose([forward.activations, forward.logits]);
      expect(tf.memory().numTensors).toBe(before);
      input.dispose();
    } finally {
      adapter.dispose();
    }
  }, 60_000);
});
