/**
 * The shared state of one explanation: one forward pass serves every label and every method.
 * Gradients `g = dS_c/dA` are computed at most once per context, for all labels together, either
 * analytically (`gap-dense` head: `g_ij^k = W[k, c] / (h w)`) or by autodiff of the head only
 * (the backbone is never re-run).
 */
import * as tf from '@tensorflow/tfjs';
import type { ClassifierAdapter, ForwardPass } from '../model/adapter';

export type GradientPath = 'auto' | 'analytic' | 'autodiff';

export class ExplainContext {
  readonly adapter: ClassifierAdapter;
  /** `[1, h, w, K]` (owned by the caller of the constructor) */
  readonly activations: tf.Tensor4D;
  /** `[1, L]` (owned by the caller of the constructor) */
  readonly logits: tf.Tensor2D;
  /** The labels explained, in order: map `n` of every method is for `labels[n]`. */
  readonly labels: readonly number[];
  readonly gradientPath: Exclude<GradientPath, 'auto'>;
  private cachedGradients: tf.Tensor4D | null = null;

  constructor(adapter: ClassifierAdapter, forward: ForwardPass, labels: readonly number[], gradientPath: GradientPath = 'auto') {
    this.adapter = adapter;
    this.activations = forward.activations;
    this.logits = forward.logits;
    this.labels = labels;
    this.gradientPath = gradientPath === 'auto'
      ? (adapter.headKind === 'gap-dense' ? 'analytic' : 'autodiff')
      : gradientPath;
    if (this.gradientPath === 'analytic' && adapter.headKind !== 'gap-dense') {
      throw new Error('analytic gradients need a GAP -> Dense head');
    }
  }

  /** One-hot rows of the explained labels: `[N, L]`. Caller disposes (or call inside tidy). */
  labelSelector(): tf.Tensor2D {
    return tf.oneHot(tf.tensor1d(this.labels as number[], 'int32'), this.adapter.numClasses).toFloat() as tf.Tensor2D;
  }

  /**
   * `g[n] = dS_{labels[n]} / dA`: `[N, h, w, K]`, owned by the context (freed by `dispose`).
   */
  gradients(): tf.Tensor4D {
    if (this.cachedGradients === null) {
      this.cachedGradients = tf.tidy(() => this.gradientPath === 'analytic' ? this.analyticGradients() : this.autodiffGradients());
      tf.keep(this.cachedGradients);
    }
    return this.cachedGradients;
  }

  /** GAP -> Dense: `dS_c/dA_ij^k = W[k, c] / (h w)` at every position. */
  private analyticGradients(): tf.Tensor4D {
    const [, h, w, k] = this.activations.shape;
    const kernel = this.adapter.classWeights as tf.Tensor2D; // [K, L]
    const perLabel = tf.matMul(this.labelSelector(), kernel, false, true); // [N, K]
    const scaled = tf.div(perLabel, h * w);
    return tf.tile(tf.reshape(scaled, [this.labels.length, 1, 1, k]), [1, h, w, 1]) as tf.Tensor4D;
  }

  /**
   * Autodiff of the head for all labels in one backward pass: the activations are tiled N times along
   * the batch axis and row n selects label n with a one-hot product (no `gather`, whose gradient the wasm
   * backend lacks), so `d(sum_n S_{labels[n]}(A_n))/dA_n = dS_{labels[n]}/dA`.
   */
  private autodiffGradients(): tf.Tensor4D {
    const count = this.labels.length;
    const tiled = tf.tile(this.activations, [count, 1, 1, 1]) as tf.Tensor4D; // [N, h, w, K]
    const selector = this.labelSelector(); // [N, L]
    const objective = (a: tf.Tensor): tf.Scalar => tf.sum(tf.mul(this.adapter.headLogits(a as tf.Tensor4D), selector));
    return tf.grad(objective)(tiled) as tf.Tensor4D;
  }

  dispose(): void {
    this.cachedGradients?.dispose();
    this.cachedGradients = null;
  }
}
