/**
 * The shared state of one explanation: one forward pass serves every label and every method.
 *
 * Gradients of the logits w.r.t. the target activations, `g_l = dS_l/dA`, are computed at most once per
 * context for the union of the explained labels and the detected set (MinMax needs the latter), either
 * analytically (`gap-dense` head: `g_ij^k = W[k, l] / (h w)`) or by one autodiff pass of the head only
 * (the backbone is never re-run). Methods take linear combinations of those rows (e.g. MinMax's
 * `S_u - mean_{n in C_x \ {u}} S_n`), so nothing is differentiated twice. Input gradients `dS_l/dx`
 * (saliency methods) are likewise computed once, for all labels in one batched backward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { withDefaultOptions, type MethodOptions } from '../../shared/options';
import type { Classifier, ForwardPass } from '../model/classifier';

export type GradientPath = 'auto' | 'analytic' | 'autodiff';

export interface ContextInit {
  adapter: Classifier;
  /** Preprocessed input `[1, H, W, C]` (caller-owned). Needed by perturbation and input-gradient methods. */
  input: tf.Tensor4D;
  /** The forward pass of `input` (caller-owned). */
  forward: ForwardPass;
  /** Labels to explain: map n of every method is for labels[n]. */
  labels: readonly number[];
  /** The detected set C_x (MinMax contrasts a label with the other detected ones). Default: `labels`. */
  detected?: readonly number[];
  gradientPath?: GradientPath;
  options?: Partial<MethodOptions>;
  /** Bytes the tensors of one batch of masked inputs may hold (default: core/batching.ts). */
  memoryBudgetBytes?: number;
}

export class ExplainContext {
  readonly adapter: Classifier;
  readonly input: tf.Tensor4D;
  /** `[1, h, w, K]` */
  readonly activations: tf.Tensor4D;
  /** `[1, L]` */
  readonly logits: tf.Tensor2D;
  readonly labels: readonly number[];
  readonly detected: readonly number[];
  readonly gradientPath: Exclude<GradientPath, 'auto'>;
  readonly options: MethodOptions;
  readonly memoryBudgetBytes: number | undefined;

  /** Labels whose gradients are computed: explained labels first, then the other detected ones. */
  private readonly gradientLabels: number[];
  private cachedGradientRows: tf.Tensor4D | null = null;
  private cachedGradients: tf.Tensor4D | null = null;
  private cachedInputGradients: tf.Tensor4D | null = null;

  constructor(init: ContextInit) {
    this.adapter = init.adapter;
    this.input = init.input;
    this.activations = init.forward.activations;
    this.logits = init.forward.logits;
    this.labels = init.labels;
    this.detected = init.detected ?? init.labels;
    this.options = withDefaultOptions(init.options);
    this.memoryBudgetBytes = init.memoryBudgetBytes;
    const path = init.gradientPath ?? 'auto';
    this.gradientPath = path === 'auto' ? (init.adapter.headKind === 'gap-dense' ? 'analytic' : 'autodiff') : path;
    if (this.gradientPath === 'analytic' && init.adapter.headKind !== 'gap-dense') {
      throw new Error('analytic gradients need a GAP -> Dense head');
    }
    this.gradientLabels = [...new Set([...this.labels, ...this.detected])];
  }

  /** `C_x \ {u}`: the other detected labels. */
  othersOf(label: number): number[] {
    return this.detected.filter((other) => other !== label);
  }

  /**
   * One-hot rows `[N, L]` of the given labels (default: the explained ones). Call inside tidy. Built as a
   * label combination, not `tf.oneHot`, which refuses depth 1 (a binary classifier with one output).
   */
  labelSelector(labels: readonly number[] = this.labels): tf.Tensor2D {
    return this.labelCombination(labels.map((label) => new Map([[label, 1]])));
  }

  /**
   * Coefficient rows over labels, as a `[N, L]` matrix: row n is `sum_l coefficients[n][l] e_l`.
   * Used to form objectives such as `S_u - mean_{others} S_n` linearly. Call inside tidy.
   */
  labelCombination(rows: ReadonlyArray<ReadonlyMap<number, number>>): tf.Tensor2D {
    const matrix = new Float32Array(rows.length * this.adapter.numClasses);
    rows.forEach((row, n) =>
      row.forEach((weight, label) => {
        matrix[n * this.adapter.numClasses + label] = (matrix[n * this.adapter.numClasses + label] ?? 0) + weight;
      }),
    );
    return tf.tensor2d(matrix, [rows.length, this.adapter.numClasses]);
  }

  /** `g[n] = dS_{labels[n]}/dA`: `[N, h, w, K]`, owned by the context. */
  gradients(): tf.Tensor4D {
    if (this.cachedGradients === null) {
      this.cachedGradients = tf.keep(this.combineGradients(this.labels.map((label) => new Map([[label, 1]]))));
    }
    return this.cachedGradients;
  }

  /**
   * Gradients of linear combinations of logits: row n is `d(sum_l rows[n][l] S_l)/dA`, `[N, h, w, K]`.
   * Labels must be explained or detected ones. The caller owns the result (or calls inside tidy).
   */
  combineGradients(rows: ReadonlyArray<ReadonlyMap<number, number>>): tf.Tensor4D {
    const gradientRows = this.gradientRows(); // [U, h, w, K]
    return tf.tidy(() => {
      const coefficients = new Float32Array(rows.length * this.gradientLabels.length);
      rows.forEach((row, n) =>
        row.forEach((weight, label) => {
          const u = this.gradientLabels.indexOf(label);
          if (u < 0) throw new Error(`label ${label} is neither explained nor detected`);
          coefficients[n * this.gradientLabels.length + u] = (coefficients[n * this.gradientLabels.length + u] ?? 0) + weight;
        }),
      );
      const [, h, w, k] = gradientRows.shape;
      const flat = tf.reshape(gradientRows, [this.gradientLabels.length, h * w * k]);
      const combined = tf.matMul(tf.tensor2d(coefficients, [rows.length, this.gradientLabels.length]), flat);
      return tf.reshape(combined, [rows.length, h, w, k]) as tf.Tensor4D;
    });
  }

  private gradientRows(): tf.Tensor4D {
    if (this.cachedGradientRows === null) {
      this.cachedGradientRows = tf.keep(
        tf.tidy(() => (this.gradientPath === 'analytic' ? this.analyticGradients() : this.autodiffGradients())),
      );
    }
    return this.cachedGradientRows;
  }

  /** GAP -> Dense: `dS_l/dA_ij^k = W[k, l] / (h w)` at every position. `[U, h, w, K]` */
  private analyticGradients(): tf.Tensor4D {
    const [, h, w, k] = this.activations.shape;
    const kernel = this.adapter.classWeights as tf.Tensor2D; // [K, L]
    const perLabel = tf.matMul(this.labelSelector(this.gradientLabels), kernel, false, true); // [U, K]
    const scaled = tf.div(perLabel, h * w);
    return tf.tile(tf.reshape(scaled, [this.gradientLabels.length, 1, 1, k]), [1, h, w, 1]) as tf.Tensor4D;
  }

  /**
   * Autodiff of the head for all labels in one backward pass: the activations are tiled U times along
   * the batch axis and row u selects label u with a one-hot product (no `gather`, whose gradient the wasm
   * backend lacks), so `d(sum_u S_{l_u}(A_u))/dA_u = dS_{l_u}/dA`. `[U, h, w, K]`
   */
  private autodiffGradients(): tf.Tensor4D {
    const count = this.gradientLabels.length;
    const tiled = tf.tile(this.activations, [count, 1, 1, 1]) as tf.Tensor4D;
    const selector = this.labelSelector(this.gradientLabels);
    const objective = (a: tf.Tensor): tf.Scalar => tf.sum(tf.mul(this.adapter.headLogits(a as tf.Tensor4D), selector));
    return tf.grad(objective)(tiled) as tf.Tensor4D;
  }

  /**
   * Input gradients `dS_{labels[n]}/dx` at `x` (default: the context's input), all labels in one batched
   * backward pass through the whole model. `[N, H, W, C]`; the caller owns it (or calls inside tidy).
   */
  inputGradientsAt(x: tf.Tensor4D, labels: readonly number[] = this.labels): tf.Tensor4D {
    return tf.tidy(() => {
      const count = labels.length;
      const [batch, height, width, channels] = x.shape;
      // Each of the `batch` inputs is repeated for every label: row b * N + n selects label n.
      const tiled = tf.reshape(tf.tile(tf.expandDims(x, 1), [1, count, 1, 1, 1]), [batch * count, height, width, channels]) as tf.Tensor4D;
      const selector = tf.tile(this.labelSelector(labels), [batch, 1]);
      const objective = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(this.adapter.logitsOf(input as tf.Tensor4D), selector));
      return tf.grad(objective)(tiled) as tf.Tensor4D; // [batch * N, H, W, C]
    });
  }

  /** `dS_{labels[n]}/dx` at the input, `[N, H, W, C]`, cached and owned by the context. */
  inputGradients(): tf.Tensor4D {
    if (this.cachedInputGradients === null) this.cachedInputGradients = tf.keep(this.inputGradientsAt(this.input));
    return this.cachedInputGradients;
  }

  dispose(): void {
    tf.dispose([this.cachedGradientRows, this.cachedGradients, this.cachedInputGradients].filter((t): t is tf.Tensor4D => t !== null));
    this.cachedGradientRows = null;
    this.cachedGradients = null;
    this.cachedInputGradients = null;
  }
}
