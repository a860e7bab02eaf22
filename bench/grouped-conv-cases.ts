/**
 * The grouped-convolution layers `npm run bench:grouped-conv` times with each strategy of
 * src/core/model/grouped-conv.ts, on whatever TF.js backend is current (Node or a browser page):
 * the grouped 3x3 convolutions of ResNeXt-50 32x4d (32 groups) and of ResNeSt-50's split attention
 * (radix 2: 2 groups), and two of ResNeXt-101 32x8d (8 and 16 channels per group), batch 1 at 224 px input, forward and input gradient. Pure TF.js, no Node or DOM.
 */
import * as tf from '@tensorflow/tfjs';
import { GROUPED_STRATEGIES, groupedConv2d, keptTfFilter, type GroupedStrategy } from '../src/core/model/grouped-conv';

export interface GroupedLayer {
  name: string;
  size: number;
  inChannels: number;
  outChannels: number;
  groups: number;
}

export const GROUPED_LAYERS: readonly GroupedLayer[] = [
  { name: 'resnext50 layer1 conv2', size: 56, inChannels: 128, outChannels: 128, groups: 32 },
  { name: 'resnext50 layer2 conv2', size: 28, inChannels: 256, outChannels: 256, groups: 32 },
  { name: 'resnext50 layer3 conv2', size: 14, inChannels: 512, outChannels: 512, groups: 32 },
  { name: 'resnext50 layer4 conv2', size: 7, inChannels: 1024, outChannels: 1024, groups: 32 },
  { name: 'resnext101_32x8d layer1 conv2', size: 56, inChannels: 256, outChannels: 256, groups: 32 },
  { name: 'resnext101_32x8d layer2 conv2', size: 28, inChannels: 512, outChannels: 512, groups: 32 },
  { name: 'resnest50 layer1 splat', size: 56, inChannels: 64, outChannels: 128, groups: 2 },
  { name: 'resnest50 layer2 splat', size: 28, inChannels: 128, outChannels: 256, groups: 2 },
  { name: 'resnest50 layer3 splat', size: 14, inChannels: 256, outChannels: 512, groups: 2 },
  { name: 'resnest50 layer4 splat', size: 7, inChannels: 512, outChannels: 1024, groups: 2 },
];

export interface GroupedRow {
  layer: string;
  strategy: GroupedStrategy;
  forwardMs: number;
  inputGradientMs: number;
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

async function timed(run: () => tf.Tensor, repeat: number): Promise<number> {
  const once = async (): Promise<number> => {
    const started = performance.now();
    const result = run();
    await result.data();
    const ms = performance.now() - started;
    result.dispose();
    return ms;
  };
  await once(); // compiles the kernels (WebGPU) and caches constants
  const times: number[] = [];
  for (let i = 0; i < repeat; i += 1) times.push(await once());
  return median(times);
}

/** Times every strategy on every layer on the current backend; leaves no tensor. */
export async function benchGroupedLayers(repeat: number, layers: readonly GroupedLayer[] = GROUPED_LAYERS): Promise<GroupedRow[]> {
  const rows: GroupedRow[] = [];
  for (const layer of layers) {
    const perGroup = layer.inChannels / layer.groups;
    const shape = [layer.outChannels, perGroup, 3, 3];
    const weights = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37) * 0.1);
    const x = tf.randomUniform([1, layer.size, layer.size, layer.inChannels], -1, 1, 'float32', 1) as tf.Tensor4D;
    const outputWeights = tf.randomUniform([1, layer.size, layer.size, layer.outChannels], -1, 1, 'float32', 2);
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    for (const strategy of GROUPED_STRATEGIES) {
      const filter = keptTfFilter(
        () => tf.transpose(tf.tensor4d(weights, shape as [number, number, number, number]), [2, 3, 1, 0]),
        layer.groups,
        strategy,
      );
      const conv = (input: tf.Tensor4D): tf.Tensor4D => groupedConv2d(input, filter, [1, 1], pad, [1, 1]);
      const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(conv(input as tf.Tensor4D), outputWeights)));
      const forwardMs = await timed(() => tf.tidy(() => conv(x)), repeat);
      const inputGradientMs = await timed(() => gradient(x), repeat);
      tf.dispose(filter.tensors);
      rows.push({
        layer: layer.name,
        strategy,
        forwardMs: Number(forwardMs.toFixed(2)),
        inputGradientMs: Number(inputGradientMs.toFixed(2)),
      });
    }
    tf.dispose([x, outputWeights]);
  }
  return rows;
}
