/**
 * The TF.js layers a split-attention network (ResNeSt: Zhang et al., "ResNeSt: Split-Attention Networks",
 * CVPRW 2022, section 3) needs beyond TF.js's own: a convolution with groups, and the three weightless steps
 * of the split-attention block. Registered with `tf.serialization` (registerSplitAttentionLayers), so that a
 * model.json naming them loads like any layers model; the shapes ResNeSt (src/train/shapes-model.ts) is
 * made of them and TF.js's standard layers.
 *
 * The split-attention block with radix R and cardinality K on C channels (eq. 1-3 of the paper; the
 * channel layouts are those of the authors' PyTorch code, so that weights move to torch and ONNX as they are):
 * ```
 * U = ReLU(BN(GroupedConv2D(x, R * C filters, groups = K * R)))   [N, H, W, R * C], split r = channels r*C .. r*C + C - 1
 * s = GAP(RadixSum(U))                                          [N, C]     (eq. 1: the sum of the splits, pooled)
 * a = RadixSoftmax(Dense(ReLU(BN(Dense(s)))))                  [N, R * C] (eq. 2: softmax over r per channel)
 * V = RadixWeightedSum(U, a)                                    [N, H, W, C] (eq. 3: V_c = sum_r a_r,c U_r,c)
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { groupedConv2d, prepareTfFilter } from './grouped-conv';

type Shape = (number | null)[];

const singleShape = (inputShape: tf.Shape | tf.Shape[]): Shape =>
  Array.isArray(inputShape[0]) ? (inputShape[0] as Shape) : (inputShape as Shape);
const singleTensor = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);

/** TensorFlow's 'same' padding of one spatial axis: `[before, after]`. */
function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export interface GroupedConv2DArgs {
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'same' | 'valid';
  groups: number;
  useBias?: boolean;
  /** Seed of the He-normal kernel initialiser (fan-in = kernel area x input channels per group). */
  seed?: number;
  name?: string;
}

/**
 * Conv2D with groups, as Keras's `Conv2D(groups=g)` and PyTorch's `groups=g`: input `[N, H, W, C_in]`, kernel
 * `[k, k, C_in / g, filters]` (TensorFlow's grouped layout), output `[N, H', W', filters]`; filter block j sees
 * input channel block j. Runs as grouped-conv.ts's groupedConv2d (exact, differentiable on every backend).
 */
export class GroupedConv2D extends tf.layers.Layer {
  static className = 'GroupedConv2D';
  private readonly config: Required<Omit<GroupedConv2DArgs, 'name'>>;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: GroupedConv2DArgs) {
    super(args.name === undefined ? {} : { name: args.name });
    this.config = {
      filters: args.filters,
      kernelSize: args.kernelSize,
      strides: args.strides ?? 1,
      padding: args.padding ?? 'same',
      groups: args.groups,
      useBias: args.useBias ?? false,
      seed: args.seed ?? 1,
    };
    if (args.filters % args.groups !== 0) throw new RangeError(`${args.filters} filters cannot form ${args.groups} groups`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const channels = singleShape(inputShape)[3];
    if (typeof channels !== 'number' || channels % this.config.groups !== 0)
      throw new RangeError(`GroupedConv2D: ${String(channels)} input channels cannot form ${this.config.groups} groups`);
    const { kernelSize, filters, groups, seed, useBias } = this.config;
    this.kernel = this.addWeight(
      'kernel',
      [kernelSize, kernelSize, channels / groups, filters],
      'float32',
      tf.initializers.heNormal({ seed }),
    );
    if (useBias) this.bias = this.addWeight('bias', [filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, height, width] = singleShape(inputShape);
    const { kernelSize, strides, padding, filters } = this.config;
    const side = (size: number | null | undefined): number | null =>
      typeof size !== 'number' ? null : padding === 'same' ? Math.ceil(size / strides) : Math.floor((size - kernelSize) / strides) + 1;
    return [batch ?? null, side(height), side(width), filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs) as tf.Tensor4D;
      const { kernelSize, strides, padding, groups } = this.config;
      const [top, bottom] = padding === 'same' ? samePadding(x.shape[1], kernelSize, strides) : [0, 0];
      const [left, right] = padding === 'same' ? samePadding(x.shape[2], kernelSize, strides) : [0, 0];
      const pad: tf.backend_util.ExplicitPadding = [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ];
      const filter = prepareTfFilter(this.kernel!.read() as tf.Tensor4D, groups);
      const y = groupedConv2d(x, filter, [strides, strides], pad, [1, 1]);
      return this.bias === null ? y : tf.add(y, this.bias.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.config };
  }
}

interface RadixArgs {
  radix: number;
  /** Cardinal groups K (default 1). */
  cardinality?: number;
  name?: string;
}

abstract class RadixLayer extends tf.layers.Layer {
  protected readonly radix: number;
  protected readonly cardinality: number;

  constructor(args: RadixArgs) {
    super(args.name === undefined ? {} : { name: args.name });
    this.radix = args.radix;
    this.cardinality = args.cardinality ?? 1;
    if (!Number.isInteger(this.radix) || this.radix < 2) throw new RangeError('split attention needs a radix of at least 2');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), radix: this.radix, cardinality: this.cardinality };
  }
}

/** `[N, H, W, R * C] -> [N, H, W, C]`: the sum of the R splits (eq. 1 before the pooling). */
export class RadixSum extends RadixLayer {
  static className = 'RadixSum';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = singleShape(inputShape);
    const channels = shape[shape.length - 1];
    return [...shape.slice(0, -1), typeof channels === 'number' ? channels / this.radix : null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.addN(tf.split(singleTensor(inputs), this.radix, -1)));
  }
}

/**
 * `[N, R * C] -> [N, R * C]`: the attention logits, laid out as the authors' fc2 gives them (cardinal group
 * k, then split r, then channel j of C / K), turned into a softmax over r for every (k, j) and laid out
 * split-major (r, k, j) like the splits (eq. 2; the reference's rSoftmax: view, transpose, softmax, reshape).
 */
export class RadixSoftmax extends RadixLayer {
  static className = 'RadixSoftmax';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const logits = singleTensor(inputs) as tf.Tensor2D;
      const [batch, channels] = logits.shape;
      const grouped = tf.reshape(logits, [batch, this.cardinality, this.radix, channels / (this.cardinality * this.radix)]); // [N, K, R, J]
      const radixLast = tf.softmax(tf.transpose(grouped, [0, 1, 3, 2]), -1); // [N, K, J, R]: TF.js's softmax runs on the last axis
      return tf.reshape(tf.transpose(radixLast, [0, 3, 1, 2]), [batch, channels]); // [N, R, K, J]
    });
  }
}

/** `([N, H, W, R * C], [N, R * C]) -> [N, H, W, C]`: `V_c = sum_r a_{r,c} U_{r,c}` (eq. 3). */
export class RadixWeightedSum extends RadixLayer {
  static className = 'RadixWeightedSum';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = singleShape(inputShape);
    const channels = shape[3];
    return [shape[0] ?? null, shape[1] ?? null, shape[2] ?? null, typeof channels === 'number' ? channels / this.radix : null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) throw new TypeError('RadixWeightedSum takes the splits and the attention');
      const [splits, attention] = inputs as [tf.Tensor4D, tf.Tensor2D];
      const [batch, , , channels] = splits.shape;
      const weights = tf.reshape(attention, [batch, 1, 1, channels]);
      return tf.addN(tf.split(tf.mul(splits, weights), this.radix, -1));
    });
  }
}

let registered = false;

/** Registers the layers above with TF.js's serialization (idempotent); layers models naming them then load. */
export function registerSplitAttentionLayers(): void {
  if (registered) return;
  registered = true;
  for (const layer of [GroupedConv2D, RadixSum, RadixSoftmax, RadixWeightedSum]) tf.serialization.registerClass(layer);
}
