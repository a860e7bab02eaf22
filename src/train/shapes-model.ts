/**
 * The small multi-label classifier of the synthetic shape scenes (issue #4), and the kernel-usage-regularised
 * (KUR) head.
 *
 * Architecture (a pre-activation-free, "v1" ResNet: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
 * Recognition", CVPR 2016, with batch normalisation after every convolution, Ioffe and Szegedy, ICML 2015):
 *
 * ```
 * input [S, S, 3] in [0, 1]
 * -> stem: conv 3x3 (stride `stemStride`) -> BN -> ReLU
 * -> stage s (width widths[s], first block stride 1 for s = 0 else 2), `blocksPerStage` basic blocks each:
 *      y = ReLU(BN(conv3x3(ReLU(BN(conv3x3(x, stride))))) + shortcut(x))
 *      shortcut = identity, or conv 1x1 (stride) -> BN when the shape changes (He et al.'s option B)
 * -> 'target': the ReLU after the last block's addition, [S / (stemStride * 2^(stages-1)), ..., widths[-1]]
 * -> GlobalAveragePooling2D 'gap' -> Dense(8, sigmoid) 'predictions'
 * ```
 *
 * The head is exactly `GAP -> Dense(sigmoid)`: the structure the CAM family assumes (Zhou et al., CVPR 2016:
 * `M_c = sum_k W[k, c] A^k`) and that MinMax-CAM's multi-label weights are defined on; the studio's
 * ClassifierAdapter detects it as `gap-dense` + `sigmoid` and picks 'target' as the default target layer
 * (the last 4-D layer that separates the input from the output).
 *
 * Convolutions have no bias (each is followed by BN, whose beta plays that role). Every initializer is
 * seeded (He-normal convolutions, Glorot-uniform head), so a build with the same options gives the same
 * weights.
 */
import * as tf from '@tensorflow/tfjs';
import { NUM_SHAPE_CLASSES } from '../data/shapes';
import {
  GroupedConv2D,
  RadixSoftmax,
  RadixSum,
  RadixWeightedSum,
  registerSplitAttentionLayers,
} from '../core/model/split-attention-layers';

export interface ShapesResNetOptions {
  /**
   * Input side in pixels (square RGB). Default 64, as the committed models.
   * The scenes are generated at this size (no resampling anywhere); the target layer is size / 8 on a side
   * (8x8 at 64 px, like ResNet50's 7x7 at 224 px). 64 px was chosen over 48 px once the fast convolution
   * gradients (core/kernels/conv-gradients.ts) made a step at 64 px cost only ~1.2 times one at 48 px (about
   * 340 vs 290 ms with two runs on 2 cores): at 48 px the small objects were too few pixels to tell apart,
   * and test macro F1 stayed at 0.949 +- 0.004 over four configurations (README, the shapes models).
   */
  inputSize?: number;
  /** Channels per stage. Default [16, 32, 64]. */
  widths?: readonly number[];
  /** Residual blocks per stage. Default 1. */
  blocksPerStage?: number;
  /** Stride of the stem convolution. Default 2. */
  stemStride?: number;
  /** Seed of the initializers (each layer gets its own derived seed). Default 1. */
  seed?: number;
  /** Output units. Default 8 (the shape classes). */
  numClasses?: number;
  /**
   * Zero-initialise the last BN gamma of each residual branch (Goyal et al. 2017). Default false: with one
   * block per stage it slowed learning (measured at 64 px: validation loss 0.56 vs 0.50 after 800 steps).
   */
  zeroInitResidual?: boolean;
  /**
   * 'resnet' (default): the basic blocks above. 'resnest': split-attention blocks (buildShapesResNeSt), the
   * same stem, stages, target and head.
   */
  arch?: ShapesArchitecture;
  /** Splits of each split-attention block (arch 'resnest'). Default 2, as ResNeSt-50. */
  radix?: number;
}

export type ShapesArchitecture = 'resnet' | 'resnest';
export const SHAPES_ARCHITECTURES: readonly ShapesArchitecture[] = ['resnet', 'resnest'];

export const TARGET_LAYER = 'target';
export const POOL_LAYER = 'gap';
export const HEAD_LAYER = 'predictions';

/** The options with their defaults filled in (recorded in the metadata). */
export function resolveShapesResNetOptions(options: ShapesResNetOptions = {}): Required<ShapesResNetOptions> {
  return {
    inputSize: options.inputSize ?? 64,
    widths: [...(options.widths ?? [16, 32, 64])],
    blocksPerStage: options.blocksPerStage ?? 1,
    stemStride: options.stemStride ?? 2,
    seed: options.seed ?? 1,
    numClasses: options.numClasses ?? NUM_SHAPE_CLASSES,
    zeroInitResidual: options.zeroInitResidual ?? false,
    arch: options.arch ?? 'resnet',
    radix: options.radix ?? 2,
  };
}

/**
 * The layer makers both architectures share: seeded He-normal convolutions without bias (each seed one more
 * than the last, from `seed * 1000`), batch normalisation (momentum 0.95, epsilon 1e-3; optionally
 * zero-initialised gamma), ReLU, and `apply`.
 */
function layerKit(seed: number, padding: 'same' | 'valid') {
  let layerSeed = seed * 1000;
  const nextSeed = () => (layerSeed += 1);
  const heNormal = () => tf.initializers.heNormal({ seed: nextSeed() });
  return {
    nextSeed,
    heNormal,
    conv: (filters: number, kernelSize: number, strides: number, name: string) =>
      tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, kernelInitializer: heNormal(), name }),
    bn: (name: string, gammaZero = false) =>
      tf.layers.batchNormalization({ axis: -1, momentum: 0.95, epsilon: 1e-3, name, ...(gammaZero ? { gammaInitializer: 'zeros' } : {}) }),
    relu: (name: string) => tf.layers.activation({ activation: 'relu', name }),
    apply: (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor,
  };
}

/** `target -> GAP 'gap' -> Dense(numClasses, sigmoid) 'predictions'` (Glorot-uniform kernel seeded `seed * 1000 + 999`), as a model. */
function withHead(input: tf.SymbolicTensor, target: tf.SymbolicTensor, numClasses: number, seed: number, name: string): tf.LayersModel {
  const pooled = tf.layers.globalAveragePooling2d({ name: POOL_LAYER }).apply(target) as tf.SymbolicTensor;
  const head = tf.layers.dense({
    units: numClasses,
    activation: 'sigmoid',
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 1000 + 999 }),
    biasInitializer: 'zeros',
    name: HEAD_LAYER,
  });
  return tf.model({ inputs: input, outputs: head.apply(pooled) as tf.SymbolicTensor, name });
}

/** Builds the network (weights freshly initialised from the seed). See the module comment. */
export function buildShapesResNet(options: ShapesResNetOptions = {}): tf.LayersModel {
  const resolved = resolveShapesResNetOptions(options);
  if (resolved.arch === 'resnest') return buildShapesResNeSt(resolved);
  const { inputSize, widths, blocksPerStage, stemStride, seed, numClasses, zeroInitResidual } = resolved;
  if (widths.length === 0 || blocksPerStage < 1) throw new RangeError('need at least one stage and one block per stage');
  const { conv, bn, relu, apply } = layerKit(seed, 'same');

  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'image' });
  let x = apply(conv(widths[0]!, 3, stemStride, 'stem_conv'), input);
  x = apply(bn('stem_bn'), x);
  x = apply(relu('stem_relu'), x);
  let channels = widths[0]!;
  widths.forEach((width, stage) => {
    for (let block = 0; block < blocksPerStage; block += 1) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const prefix = `stage${stage + 1}_block${block + 1}`;
      const last = stage === widths.length - 1 && block === blocksPerStage - 1;
      let y = apply(conv(width, 3, stride, `${prefix}_conv1`), x);
      y = apply(bn(`${prefix}_bn1`), y);
      y = apply(relu(`${prefix}_relu1`), y);
      y = apply(conv(width, 3, 1, `${prefix}_conv2`), y);
      // Optionally zero-initialised last gamma (Goyal et al. 2017): every block starts as the identity.
      y = apply(bn(`${prefix}_bn2`, zeroInitResidual), y);
      let shortcut = x;
      if (stride !== 1 || channels !== width) {
        shortcut = apply(conv(width, 1, stride, `${prefix}_proj`), x);
        shortcut = apply(bn(`${prefix}_proj_bn`), shortcut);
      }
      x = apply(tf.layers.add({ name: `${prefix}_add` }), [y, shortcut]);
      x = apply(relu(last ? TARGET_LAYER : `${prefix}_out`), x);
      channels = width;
    }
  });
  return withHead(input, x, numClasses, seed, 'shapes_resnet');
}

/**
 * The shapes network with split-attention blocks: a small ResNeSt (Zhang et al., "ResNeSt: Split-Attention
 * Networks", CVPRW 2022), built as the authors' code builds ResNeSt-50 (radix 2, cardinality 1, avd and
 * average-down shortcuts), at the shapes network's widths and with one bottleneck-free block per stage:
 *
 * ```
 * input [S, S, 3] -> stem: pad 1, conv 3x3 stride 2 (valid) -> BN -> ReLU
 * -> stage s (width w = widths[s], stride 2 for s > 0), blocks:
 *      y = ReLU(BN(conv1x1(x, w)))
 *      y = avd: pad 1, average pool 3x3 stride 2 (pads counted, as torch's AvgPool2d(3, 2, 1))   when strided
 *      y = SplitAttention(y, w): ReLU(BN(GroupedConv2D 3x3, R * w filters, R groups)) -> RadixSum -> GAP
 *          -> Dense(max(R * w / 4, 32)) -> BN -> ReLU -> Dense(R * w) -> RadixSoftmax -> RadixWeightedSum
 *      y = BN(conv1x1(y, w))
 *      shortcut = identity, or (average pool 2x2 stride 2 when strided: avg-down) -> conv1x1 -> BN
 *      x = ReLU(y + shortcut)                 ('target' after the last block)
 * -> GAP 'gap' -> Dense(8, sigmoid) 'predictions'
 * ```
 *
 * Every padding is explicit and symmetric, as PyTorch's, so that scripts/onnx/export-shapes-resnest.py
 * rebuilds the same function in torch from the saved weights and exports it to ONNX.
 */
export function buildShapesResNeSt(options: ShapesResNetOptions = {}): tf.LayersModel {
  const { inputSize, widths, blocksPerStage, stemStride, seed, numClasses, zeroInitResidual, radix } = resolveShapesResNetOptions(options);
  if (widths.length === 0 || blocksPerStage < 1) throw new RangeError('need at least one stage and one block per stage');
  registerSplitAttentionLayers();
  const { conv, bn, relu, apply, heNormal, nextSeed } = layerKit(seed, 'valid');
  const pad1 = (name: string) => tf.layers.zeroPadding2d({ padding: 1, name });

  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'image' });
  let x = apply(conv(widths[0]!, 3, stemStride, 'stem_conv'), apply(pad1('stem_pad'), input));
  x = apply(relu('stem_relu'), apply(bn('stem_bn'), x));
  let channels = widths[0]!;
  widths.forEach((width, stage) => {
    for (let block = 0; block < blocksPerStage; block += 1) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const prefix = `stage${stage + 1}_block${block + 1}`;
      const last = stage === widths.length - 1 && block === blocksPerStage - 1;
      let y = apply(relu(`${prefix}_relu1`), apply(bn(`${prefix}_bn1`), apply(conv(width, 1, 1, `${prefix}_conv1`), x)));
      if (stride !== 1) {
        y = apply(pad1(`${prefix}_avd_pad`), y);
        y = apply(tf.layers.averagePooling2d({ poolSize: 3, strides: stride, padding: 'valid', name: `${prefix}_avd` }), y);
      }
      const splits = apply(
        relu(`${prefix}_splat_relu0`),
        apply(
          bn(`${prefix}_splat_bn0`),
          apply(
            new GroupedConv2D({
              filters: radix * width,
              kernelSize: 3,
              groups: radix,
              padding: 'same',
              seed: nextSeed(),
              name: `${prefix}_splat_conv`,
            }),
            y,
          ),
        ),
      );
      let attention = apply(
        tf.layers.globalAveragePooling2d({ name: `${prefix}_splat_gap` }),
        apply(new RadixSum({ radix, name: `${prefix}_splat_sum` }), splits),
      );
      const inter = Math.max((radix * width) / 4, 32);
      attention = apply(tf.layers.dense({ units: inter, kernelInitializer: heNormal(), name: `${prefix}_splat_fc1` }), attention);
      attention = apply(relu(`${prefix}_splat_relu1`), apply(bn(`${prefix}_splat_bn1`), attention));
      attention = apply(tf.layers.dense({ units: radix * width, kernelInitializer: heNormal(), name: `${prefix}_splat_fc2` }), attention);
      attention = apply(new RadixSoftmax({ radix, name: `${prefix}_splat_rsoftmax` }), attention);
      y = apply(new RadixWeightedSum({ radix, name: `${prefix}_splat` }), [splits, attention]);
      y = apply(bn(`${prefix}_bn3`, zeroInitResidual), apply(conv(width, 1, 1, `${prefix}_conv3`), y));
      let shortcut = x;
      if (stride !== 1 || channels !== width) {
        if (stride !== 1)
          shortcut = apply(
            tf.layers.averagePooling2d({ poolSize: stride, strides: stride, padding: 'valid', name: `${prefix}_down_pool` }),
            shortcut,
          );
        shortcut = apply(bn(`${prefix}_proj_bn`), apply(conv(width, 1, 1, `${prefix}_proj`), shortcut));
      }
      x = apply(tf.layers.add({ name: `${prefix}_add` }), [y, shortcut]);
      x = apply(relu(last ? TARGET_LAYER : `${prefix}_out`), x);
      channels = width;
    }
  });
  return withHead(input, x, numClasses, seed, 'shapes_resnest');
}

/**
 * The KUR head's effective kernel (kernel-usage regularisation, as specified in issue #4 / the seed's
 * slides): `W~ = alpha * softmax_over_labels(W - max_over_labels(W)) * W`, elementwise, with `W: [K, L]`
 * (K features, L labels) and the softmax taken along the label axis for each feature row. Subtracting the
 * row maximum does not change the softmax; it keeps the exponentials finite. A feature whose weight is
 * largest for one label keeps it (scaled by up to alpha); its weights for the other labels are damped, so
 * each feature map tends to be used by few labels, which is what makes class activation maps of different
 * labels separate. Differentiable (the training loop differentiates through it).
 * @param kernel `W: [K, L]`
 * @param alpha in [1, 20] in the spec
 * @returns `W~: [K, L]`
 */
export function kurKernel(kernel: tf.Tensor2D, alpha: number): tf.Tensor2D {
  return tf.tidy(() => {
    const shifted = tf.sub(kernel, tf.max(kernel, 1, true));
    return tf.mul(tf.mul(tf.softmax(shifted, 1), kernel), alpha) as tf.Tensor2D;
  });
}
