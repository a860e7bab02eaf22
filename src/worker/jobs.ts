/**
 * The engine's jobs: one runs at a time, a newer one supersedes (cancels) the running one, and cancel()
 * stops it; a cancelled job stops at its next checkpoint (between batches), so the model stays loaded.
 */
import { StudioError } from '../shared/errors';

/** Throws a `cancelled` StudioError once the job was cancelled. */
export type Checkpoint = () => void;

export class Jobs {
  private counter = 0;
  private active: { id: number; cancelled: boolean } | null = null;

  /** Runs `work` as the newest job; `what` names it in the cancellation message. */
  async run<T>(what: string, work: (jobId: number, checkpoint: Checkpoint) => Promise<T>): Promise<T> {
    const jobId = (this.counter += 1);
    if (this.active !== null) this.active.cancelled = true;
    const job = { id: jobId, cancelled: false };
    this.active = job;
    const checkpoint = (): void => {
      if (job.cancelled) throw new StudioError('cancelled', `The ${what} was cancelled; the model is still loaded.`);
    };
    try {
      return await work(jobId, checkpoint);
    } finally {
      if (this.active === job) this.active = null;
    }
  }

  /** Cancels the running job, if any. */
  cancel(): void {
    if (this.active !== null) this.active.cancelled = true;
  }
}
