/**
 * The classroom walkthrough's request and numbers (computed by src/core/methods/walkthrough.ts in the worker,
 * drawn by the UI): plain data.
 */
export interface WalkthroughRequest {
  /** The explained label u. */
  label: number;
  /** The second label v of the MinMax contrast (C_x = {u, v}); null: no contrast steps. */
  contrastLabel: number | null;
  /** How many channels to show (those of largest |w_k^u|). */
  channels: number;
}

export interface WalkthroughMap {
  /** `[h, w]` row-major, before ReLU. */
  values: Float32Array;
  min: number;
  max: number;
}

export interface WalkthroughData {
  /** `[h, w, K]` of the target layer. */
  activationShape: [number, number, number];
  label: number;
  contrastLabel: number | null;
  /** Logit S and probability p of the label (and of the contrast label). */
  scores: Array<{ label: number; logit: number; prob: number }>;
  /** `[K]` each. Grad-CAM weights are those of the label; MinMax weights need a contrast label. */
  weights: { cam: Float32Array | null; gradcam: Float32Array; minmax: Float32Array | null; contrastCam: Float32Array | null };
  /** The channels of largest |CAM weight| (|Grad-CAM weight| without a GAP -> Dense head), largest first. */
  topChannels: Array<{ channel: number; map: WalkthroughMap }>;
  /** `sum_k w_k A^k` before ReLU, per method (contrastCam: the CAM of the contrast label). */
  sums: { cam: WalkthroughMap | null; gradcam: WalkthroughMap; minmax: WalkthroughMap | null; contrastCam: WalkthroughMap | null };
}
