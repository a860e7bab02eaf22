/**
 * `npm run bench:gradients`: the wasm convolution-gradient kernels, per-tap reference against the
 * single-convolution versions of src/core/kernels/conv-gradients.ts, on the methods that differentiate
 * through the network (Vanilla gradient, SmoothGrad, Integrated Gradients) for the real ResNet50 (golden
 * chelsea input) and the bundled Shapes ResNet (test scene 0). Per model and method: median ms with each
 * kernel set, the speed-up, and the max |difference| of the raw maps. Prints JSON.
 *
 * Options: --repeat N (runs per method and kernel set, median reported; default 3), --models resnet50,shapes-resnet,
 * --methods saliency,smoothgrad,integrated-gradients, --kernels per-tap,conv (each as comma-separated lists).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { preprocess } from '../src/core/preprocess';
import { disposeMethodMaps, explain } from '../src/core/methods/explain';
import type { MethodId } from '../src/shared/methods';
import { useFilterGradient, useInputGradient } from '../src/core/kernels/conv-gradients';
import { generateSplitScene } from '../src/data/shapes';
import { initNodeBackend } from '../src/node/backend';
import { loadClassifierFromDirectory, readFloat32 } from '../src/node/files';
import { goldenDir, repoRoot, resnetDir } from '../src/testing/golden';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    models: { type: 'string', default: 'resnet50,shapes-resnet' },
    methods: { type: 'string', default: 'saliency,smoothgrad,integrated-gradients' },
    kernels: { type: 'string', default: 'per-tap,conv' },
  },
});
const repeat = Math.max(1, Number(values.repeat));
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
const METHODS = values.methods.split(',') as MethodId[];
const KERNEL_SETS = {
  'per-tap': () => {
    useFilterGradient('core');
    useInputGradient('native');
  },
  conv: () => {
    useFilterGradient('conv');
    useInputGradient('conv');
  },
} as const;

const backend = await initNodeBackend('wasm');
const models: Array<{ name: string; dir: string; input: () => Promise<tf.Tensor4D> }> = [
  { name: 'resnet50', dir: resnetDir, input: async () => tf.tensor4d(readFloat32(join(goldenDir, 'chelsea.x.f32')), [1, 224, 224, 3]) },
  {
    name: 'shapes-resnet',
    dir: join(repoRoot, 'models', 'shapes-resnet'),
    input: async () => {
      const loaded = await loadClassifierFromDirectory(join(repoRoot, 'models', 'shapes-resnet'));
      const size = loaded.adapter.inputShape[0];
      const scene = generateSplitScene('test', 0, { size });
      const pixels = tf.tensor4d(Int32Array.from(scene.image), [1, size, size, 3], 'int32');
      try {
        return preprocess(pixels, loaded.preprocessing, 3);
      } finally {
        pixels.dispose();
      }
    },
  },
];

const rows: Record<string, unknown>[] = [];
for (const model of models.filter((m) => values.models.split(',').includes(m.name))) {
  const loaded = await loadClassifierFromDirectory(model.dir);
  const adapter = loaded.adapter;
  const input = await model.input();
  const forward = adapter.forward(input);
  const label = (await forward.logits.argMax(1).data())[0]!;
  for (const method of METHODS) {
    const timings: Record<string, number> = {};
    const maps: Record<string, Float32Array> = {};
    for (const [name, install] of Object.entries(KERNEL_SETS).filter(([name]) => values.kernels.split(',').includes(name))) {
      install();
      const ms: number[] = [];
      for (let run = 0; run < repeat; run += 1) {
        const started = performance.now();
        const [result] = await explain(adapter, input, forward, { labels: [label], methods: [method] });
        maps[name] = (await result!.raw.data()) as Float32Array;
        ms.push(performance.now() - started);
        disposeMethodMaps(result!);
      }
      timings[name] = Math.round(median(ms));
    }
    let maxAbsDifference: number | null = null;
    if (maps['conv'] !== undefined && maps['per-tap'] !== undefined) {
      maxAbsDifference = 0;
      for (let i = 0; i < maps['conv'].length; i += 1)
        maxAbsDifference = Math.max(maxAbsDifference, Math.abs(maps['conv'][i]! - maps['per-tap'][i]!));
    }
    const speedUp =
      timings['per-tap'] !== undefined && timings['conv'] !== undefined
        ? Math.round((timings['per-tap'] / timings['conv']) * 100) / 100
        : null;
    const row = {
      model: model.name,
      method,
      label,
      perTapMs: timings['per-tap'] ?? null,
      convMs: timings['conv'] ?? null,
      speedUp,
      maxAbsDifference,
    };
    console.error(JSON.stringify(row));
    rows.push(row);
  }
  tf.dispose([input, forward.activations, forward.logits]);
  loaded.adapter.dispose();
}
KERNEL_SETS.conv();
console.log(JSON.stringify({ backend, repeat, node: process.version, rows }, null, 2));
