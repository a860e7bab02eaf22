/**
 * Batch sizes for the long loops of masked forward passes (Score-CAM, the faithfulness metrics), chosen
 * from what the first batches measure rather than trusted from a setting:
 * - memory: the bytes one masked input holds at the peak of its batch (everything a `tf.tidy` keeps until
 *   it ends: the masked inputs and every activation of the forward pass) times the batch size must fit the
 *   working-memory budget; a requested batch that does not is shrunk, and {@link BatchSizer.note} says so;
 * - time: a batch should take at most about `targetBatchMs`, because cancelling (and a newer request)
 *   takes effect between batches; on a slow backend the batches get smaller, never the results different
 *   (each masked input's scores do not depend on its batch).
 * The first batch over a model holds one input, to measure both; later loops over the same model start
 * from that measurement.
 */
import * as tf from '@tensorflow/tfjs';

/** What a batch should take at most, so that a cancel is honoured well within a second. */
export const TARGET_BATCH_MS = 400;
/** The working-memory budget when none is given (a quarter of the wasm backend's 4 GiB heap). */
export const DEFAULT_MEMORY_BUDGET_BYTES = 1024 ** 3;

export interface BatchSizerOptions {
  /** The batch size asked for (the method's setting). */
  requested: number;
  /** Bytes the tensors of one batch may hold at their peak. */
  memoryBudgetBytes?: number;
  targetBatchMs?: number;
  /** What runs the batches, for the note, e.g. "Score-CAM". */
  what: string;
  /**
   * What the batches run through (the classifier): its cost per input is remembered, so that later loops
   * over the same model (every method of every image of a folder evaluation) skip the measuring batch.
   */
  measuredOn?: object;
}

const MIB = 1024 * 1024;

/** Cost per input, per model and loop kind, as the last BatchSizer over it measured. */
const measurements = new WeakMap<object, Map<string, { bytesPerItem: number; msPerItem: number }>>();

export class BatchSizer {
  private readonly requested: number;
  private readonly budget: number;
  private readonly targetMs: number;
  private bytesPerItem: number | null = null;
  private msPerItem: number | null = null;
  private memoryCap = Number.POSITIVE_INFINITY;
  /** The smallest batch memory forced (for the note). */
  private shrunkTo: number | null = null;

  constructor(private readonly options: BatchSizerOptions) {
    this.requested = Math.max(1, Math.floor(options.requested));
    this.budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
    this.targetMs = options.targetBatchMs ?? TARGET_BATCH_MS;
    const known = options.measuredOn === undefined ? undefined : measurements.get(options.measuredOn)?.get(options.what);
    if (known !== undefined) {
      this.bytesPerItem = known.bytesPerItem;
      this.msPerItem = known.msPerItem;
      this.memoryCap = Math.max(1, Math.floor(this.budget / known.bytesPerItem));
      if (this.memoryCap < this.requested) this.shrunkTo = this.memoryCap;
    }
  }

  /** The size of the next batch, at most `remaining` (at least 1). */
  next(remaining: number): number {
    if (this.bytesPerItem === null) return 1; // the measuring batch
    const timeCap =
      this.msPerItem === null || this.msPerItem <= 0 ? this.requested : Math.max(1, Math.floor(this.targetMs / this.msPerItem));
    return Math.max(1, Math.min(this.requested, this.memoryCap, timeCap, remaining));
  }

  /** Records a finished batch: its size, the bytes its tensors held at the peak, and its wall time. */
  record(size: number, peakBytes: number, ms: number): void {
    const perItem = Math.max(1, peakBytes / size);
    this.bytesPerItem = Math.max(this.bytesPerItem ?? 0, perItem);
    this.memoryCap = Math.max(1, Math.floor(this.budget / this.bytesPerItem));
    if (this.memoryCap < this.requested) this.shrunkTo = this.memoryCap;
    // The latest batches matter most (the first one also compiles shaders and warms caches).
    const itemMs = ms / size;
    this.msPerItem = this.msPerItem === null ? itemMs : 0.5 * this.msPerItem + 0.5 * itemMs;
    if (this.options.measuredOn !== undefined) {
      let perModel = measurements.get(this.options.measuredOn);
      if (perModel === undefined) measurements.set(this.options.measuredOn, (perModel = new Map()));
      perModel.set(this.options.what, { bytesPerItem: this.bytesPerItem, msPerItem: this.msPerItem });
    }
  }

  /** True until the first batch was recorded (that batch holds one input and is measured closely). */
  get measuring(): boolean {
    return this.bytesPerItem === null;
  }

  /**
   * Runs one batch of `size` inputs: `compute` builds its result tensor (in a tidy), `read` downloads it;
   * the tensor is disposed and the batch recorded (peak bytes, wall time including the download).
   */
  async run<R>(size: number, compute: () => tf.Tensor, read: (tensor: tf.Tensor) => Promise<R>): Promise<R> {
    const started = performance.now();
    const { result, peakBytes } = this.measuring ? await profiledPeak(compute) : tidyWithPeak(compute);
    try {
      const value = await read(result);
      this.record(size, peakBytes, performance.now() - started);
      return value;
    } finally {
      result.dispose();
    }
  }

  /** When memory made the batches smaller than requested: what, by how much and why. */
  note(): string | null {
    if (this.shrunkTo === null || this.bytesPerItem === null) return null;
    const each = this.bytesPerItem / MIB;
    return (
      `${this.options.what} ran at most ${this.shrunkTo} masked input${this.shrunkTo === 1 ? '' : 's'} per forward pass instead of the ${this.requested} asked for: ` +
      `${this.requested} would hold about ${Math.round(each * this.requested)} MiB (${each < 10 ? each.toFixed(1) : Math.round(each)} MiB each), more than the ${Math.round(this.budget / MIB)} MiB of working memory allowed here. The maps are the same; only the batching differs.`
    );
  }
}

/**
 * Runs `compute` in `tf.tidy` and measures the bytes of tensors alive at its end, over those alive before:
 * since a tidy keeps every intermediate until it ends, that is the batch's peak.
 */
export function tidyWithPeak<T extends tf.TensorContainer>(compute: () => T): { result: T; peakBytes: number } {
  const before = tf.memory().numBytes;
  let peakBytes = 0;
  const result = tf.tidy(() => {
    const value = compute();
    peakBytes = tf.memory().numBytes - before;
    return value;
  });
  return { result, peakBytes };
}

/**
 * The peak bytes of `compute` (run in a tidy) over those alive before, from tf.profile's per-kernel
 * snapshots: unlike the tidy's end, this sees the intermediates a LayersModel frees during its own forward
 * pass. Profiling times every kernel, cheap on the CPU backends (wasm, cpu); on the GPU backends it would
 * synchronise each kernel, so there the tidy's end is used (a lower bound).
 */
export async function profiledPeak<T extends tf.Tensor>(compute: () => T): Promise<{ result: T; peakBytes: number }> {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return tidyWithPeak(compute);
  const before = tf.memory().numBytes;
  let result: T | null = null;
  const info = await tf.profile(() => {
    result = tf.tidy(compute);
    return result;
  });
  return { result: result as unknown as T, peakBytes: Math.max(0, info.peakBytes - before) };
}

/**
 * Lets the event loop run (a macrotask turn). Batched loops call it before each checkpoint: on the wasm and
 * CPU backends `await tensor.data()` resolves without ever leaving the microtask queue, so a worker busy
 * with a long job would otherwise never read the cancel (or any other) message until the job ends.
 */
export function yieldToEventLoop(): Promise<void> {
  // setTimeout exists wherever core runs (page, worker, Node); read from globalThis so that core's compiler
  // settings keep rejecting the DOM and Node globals.
  const { setTimeout } = globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown };
  return new Promise((resolve) => void setTimeout(resolve, 0));
}
