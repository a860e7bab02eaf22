import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../node/backend';
import { maxAbsDifference } from '../../testing/golden';
import { tinyClassifier, tinyInput } from '../../testing/tiny-models';
import { StudioError } from '../../shared/errors';
import { normalizeMaps, upsampleMaps } from '../maps/filters';
import { ClassifierAdapter } from '../model/adapter';
import { disposeMethodMaps, explain, type ExplainRequest, type MethodMaps } from './explain';
import { augmentInput, coverageOf, explainWithMeta, geometricAugmentations, mapToOriginal } from './meta';
import type { MetaOptions } from '../../shared/options';

interface Downloaded {
  shape: number[];
  raw: Float32Array;
  normalized: Float32Array;
  resolution: string;
}

async function download(results: MethodMaps[]): Promise<Record<string, Downloaded>> {
  try {
    const out: Record<string, Downloaded> = {};
    for (const r of results) {
      out[r.method] = {
        shape: r.raw.shape,
        raw: (await r.raw.data()) as Float32Array,
        normalized: (await r.normalized.data()) as Float32Array,
        resolution: r.resolution,
      };
    }
    return out;
  } finally {
    results.forEach(disposeMethodMaps);
  }
}

async function runMeta(adapter: ClassifierAdapter, input: tf.Tensor4D, request: ExplainRequest, meta: MetaOptions) {
  return download(await explainWithMeta(adapter, input, request, meta));
}

/** Plain explain(), raw maps upsampled to the input and then normalised: what identity-only TTA must give. */
async function plainAtInput(adapter: ClassifierAdapter, input: tf.Tensor4D, request: ExplainRequest) {
  const forward = adapter.forward(input);
  const results = await explain(adapter, input, forward, request);
  tf.dispose([forward.activations, forward.logits]);
  const [, height, width] = input.shape;
  const upsampled = results.map((r) => {
    const raw = upsampleMaps(r.raw, [height, width]);
    disposeMethodMaps(r);
    return { ...r, raw, normalized: normalizeMaps(raw) };
  });
  return download(upsampled);
}

/**
 * Pointwise model: input [6, 8, 3] -> 1x1 conv 'target' (ReLU) -> GAP -> Dense(3). A 1x1 convolution commutes
 * with a horizontal flip, so CAM(flip x) = flip(CAM(x)) exactly, and feature resolution = input resolution.
 */
function pointwiseModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 8, 3] });
  const target = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 1,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      biasInitializer: tf.initializers.constant({ value: 0.1 }),
      name: 'target',
    })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(target) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }), name: 'predictions' })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

let tiny: ClassifierAdapter;
let input: tf.Tensor4D;
beforeAll(async () => {
  await initNodeBackend('wasm');
  tiny = new ClassifierAdapter(tinyClassifier('gap-dense-softmax'));
  input = tinyInput();
});
afterAll(() => {
  input.dispose();
  tiny.dispose();
});

// Labels 3 and 4 have non-zero CAMs on the tiny model (0 and 2 are all negative, so 0 after ReLU).
const request: ExplainRequest = { labels: [3, 4], methods: ['cam', 'gradcam', 'minmax-cam'], detected: [1, 3, 4] };

describe('augmentations', () => {
  it('TTA is {1, scales} x {no flip, flip}, identity first, duplicates dropped', () => {
    expect(geometricAugmentations({ hflip: true, scales: [0.5, 1.5, 2] }).map((a) => a.name)).toEqual([
      'identity',
      'hflip',
      'x0.5',
      'x0.5+hflip',
      'x1.5',
      'x1.5+hflip',
      'x2',
      'x2+hflip',
    ]);
    expect(geometricAugmentations({ hflip: false, scales: [1, 2, 2] }).map((a) => a.name)).toEqual(['identity', 'x2']);
    expect(geometricAugmentations().map((a) => a.name)).toEqual(['identity']);
    expect(() => geometricAugmentations({ hflip: false, scales: [0] })).toThrowError(/positive/);
  });

  it('keeps the input shape: x2 is a centre crop, x0.5 a zoom-out with zero padding; maps go back', async () => {
    const before = tf.memory().numTensors;
    // A 4 x 4 ramp: x2 keeps the central 2 x 2 region, stretched.
    const ramp = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    const zoomIn = augmentInput(ramp, { hflip: false, scale: 2, name: 'x2' });
    expect(zoomIn.shape).toEqual([1, 4, 4, 1]);
    const zoomed = Array.from(await zoomIn.data());
    expect(Math.min(...zoomed)).toBeGreaterThan(0); // pixel 0 cropped away
    expect(Math.max(...zoomed)).toBeLessThan(15);
    // 8 x 8 ones zoomed out by 0.5: the content is the central 4 x 4, zeros around.
    const ones = tf.ones([1, 8, 8, 1]) as tf.Tensor4D;
    const zoomOut = augmentInput(ones, { hflip: false, scale: 0.5, name: 'x0.5' });
    const out = await zoomOut.array();
    expect(out[0]!.map((row) => row.map((v) => v[0]))).toEqual(
      Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => (y >= 2 && y < 6 && x >= 2 && x < 6 ? 1 : 0))),
    );
    // Coverage: x2 sees only the central half of the original; x0.5 sees all of it.
    const cover2Tensor = coverageOf({ hflip: false, scale: 2, name: 'x2' }, [8, 8]);
    const cover2 = await cover2Tensor.array();
    expect(cover2.flat().reduce((a, b) => a + b, 0)).toBe(16);
    expect(cover2[3]![3]).toBe(1);
    expect(cover2[0]![0]).toBe(0);
    const cover05 = coverageOf({ hflip: true, scale: 0.5, name: 'x0.5+hflip' }, [8, 8]);
    expect(Array.from(await cover05.data()).every((v) => v === 1)).toBe(true);
    // Flip there and back is exact.
    const flip = { hflip: true, scale: 1, name: 'hflip' };
    const flipped = augmentInput(ramp, flip);
    const flippedMap = tf.squeeze(flipped, [3]) as tf.Tensor3D; // [1, 4, 4] as a map
    const restored = mapToOriginal(flippedMap, flip, [4, 4]);
    expect(Array.from(await flipped.data()).slice(0, 4)).toEqual([3, 2, 1, 0]);
    expect(Array.from(await restored.data())).toEqual(Array.from({ length: 16 }, (_, i) => i));
    tf.dispose([ramp, zoomIn, ones, zoomOut, cover2Tensor, cover05, flipped, flippedMap, restored]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('explainWithMeta', () => {
  it('(a) identity-only TTA equals the plain map upsampled to the input and normalised', async () => {
    const meta = await runMeta(tiny, input, request, { tta: { hflip: false, scales: [1] } });
    const plain = await plainAtInput(tiny, input, request);
    for (const method of request.methods) {
      expect(meta[method]!.shape).toEqual([2, 16, 16]);
      expect(meta[method]!.resolution).toBe('input');
      expect(maxAbsDifference(meta[method]!.raw, plain[method]!.raw), method).toBeLessThan(1e-5);
      expect(maxAbsDifference(meta[method]!.normalized, plain[method]!.normalized), method).toBeLessThan(1e-5);
    }
  });

  it('(b) hflip maps are flipped back: on a flip-equivariant model TTA(flip) equals the plain map, and the map is not symmetric', async () => {
    const adapter = new ClassifierAdapter(pointwiseModel());
    const x = tf.randomUniform([1, 6, 8, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    try {
      const req: ExplainRequest = { labels: [0, 1, 2], methods: ['cam', 'gradcam'] };
      const meta = await runMeta(adapter, x, req, { tta: { hflip: true, scales: [] } });
      const plain = await plainAtInput(adapter, x, req);
      for (const method of req.methods) {
        expect(maxAbsDifference(meta[method]!.raw, plain[method]!.raw), method).toBeLessThan(1e-5);
        // Forgetting to flip back would average M and its mirror image: that differs from M here.
        const mirrored = Array.from(plain[method]!.raw).map((_, i) => plain[method]!.raw[Math.floor(i / 8) * 8 + (7 - (i % 8))]!);
        const scale = Math.max(...Array.from(plain[method]!.raw));
        expect(maxAbsDifference(mirrored, plain[method]!.raw) / scale, method).toBeGreaterThan(0.05);
      }
    } finally {
      x.dispose();
      adapter.dispose();
    }
  });

  it('(c) smoothing with noise level 0 equals the plain map', async () => {
    const meta = await runMeta(tiny, input, request, { smooth: { samples: 3, noiseLevel: 0, seed: 5 } });
    const plain = await plainAtInput(tiny, input, request);
    for (const method of request.methods) {
      expect(maxAbsDifference(meta[method]!.raw, plain[method]!.raw), method).toBeLessThan(1e-5);
      expect(maxAbsDifference(meta[method]!.normalized, plain[method]!.normalized), method).toBeLessThan(1e-5);
    }
  });

  it('smoothing with noise changes the map, deterministically for a seed', async () => {
    const smooth = { samples: 2, noiseLevel: 0.3, seed: 9 };
    const first = await runMeta(tiny, input, request, { smooth });
    const again = await runMeta(tiny, input, request, { smooth });
    const plain = await plainAtInput(tiny, input, request);
    expect(maxAbsDifference(first['cam']!.raw, again['cam']!.raw)).toBe(0);
    expect(maxAbsDifference(first['cam']!.normalized, plain['cam']!.normalized)).toBeGreaterThan(1e-3);
  });

  it('(d) no tensor leaks, TTA and smoothing together, and on cancellation', async () => {
    const meta: MetaOptions = { tta: { hflip: true, scales: [0.5, 2] }, smooth: { samples: 2, noiseLevel: 0.1, seed: 0 } };
    await runMeta(tiny, input, request, meta); // warm-up
    const before = tf.memory().numTensors;
    const augmentations: number[] = [];
    await runMeta(tiny, input, { ...request, onAugmentation: (done: number) => augmentations.push(done) } as ExplainRequest, meta);
    expect(tf.memory().numTensors).toBe(before);
    expect(augmentations).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 6 geometric x 2 noisy, then done

    let checks = 0;
    await expect(
      explainWithMeta(
        tiny,
        input,
        {
          ...request,
          checkpoint: () => {
            checks += 1;
            if (checks === 6) throw new StudioError('cancelled', 'Cancelled by the user.');
          },
        },
        meta,
      ),
    ).rejects.toThrowError(/Cancelled/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('(e) scales 0.5 and 2 on a fixed-size model give finite maps in [0, 1] at input resolution', async () => {
    const maps = await runMeta(
      tiny,
      input,
      { ...request, methods: ['cam', 'gradcam', 'scorecam', 'saliency'] },
      { tta: { hflip: true, scales: [0.5, 2] } },
    );
    for (const [method, map] of Object.entries(maps)) {
      expect(map.shape, method).toEqual([2, 16, 16]);
      expect(
        Array.from(map.normalized).every((v) => Number.isFinite(v) && v >= 0 && v <= 1),
        method,
      ).toBe(true);
      expect(Math.max(...Array.from(map.normalized)), method).toBeCloseTo(1, 5);
      expect(Math.min(...Array.from(map.raw)), method).toBeGreaterThanOrEqual(0);
    }
  });

  it('pixels a zoom-in crops away keep the identity value (coverage), the centre is averaged', async () => {
    const req: ExplainRequest = { labels: [4], methods: ['cam'] };
    const meta = await runMeta(tiny, input, req, { tta: { hflip: false, scales: [2] } });
    const plain = await plainAtInput(tiny, input, req);
    const border: number[] = [];
    const centre: number[] = [];
    for (let i = 0; i < 256; i += 1) {
      const [y, x] = [Math.floor(i / 16), i % 16];
      const inside = y >= 4 && y < 12 && x >= 4 && x < 12; // x2 of 16 px sees the central 8 px
      const outside = y < 3 || y > 12 || x < 3 || x > 12; // a margin for the boundary pixel
      if (outside) border.push(Math.abs(meta['cam']!.raw[i]! - plain['cam']!.raw[i]!));
      if (inside) centre.push(Math.abs(meta['cam']!.raw[i]! - plain['cam']!.raw[i]!));
    }
    expect(Math.max(...border)).toBeLessThan(1e-6); // not diluted by the cropped-away zeros
    expect(Math.max(...centre)).toBeGreaterThan(1e-4); // the zoomed map does count there
  });
});
