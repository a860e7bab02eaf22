/**
 * Folder evaluation (issues #5 and #7): every image of a dropped folder scored in the worker, one after the
 * other, with pause, resume and cancel. The methods and the detection rule are fixed when a batch starts.
 * Robust to the two ways a long batch gets interrupted:
 * - the engine worker dies under an image: once the store has a new worker ready (recoverEngine), the image
 *   is tried once more; a second crash on it is recorded as that image's failure and the batch goes on;
 * - the tab is closed or reloaded: every step is written to a journal in the browser (IndexedDB, see
 *   batch-journal.ts); on the next start the studio offers to resume it (`interruptedBatch`), with the
 *   images done kept and not evaluated again.
 */
import type { StateCreator } from 'zustand/vanilla';
import type { DetectionRule } from '../core/detection';
import type { ImageEvaluation } from '../core/metrics/evaluate';
import type { MethodId } from '../core/methods/method-ids';
import type { EngineApi } from '../worker/protocol';
import { optionsForRequest } from './analysis-options';
import { parseLabelsFile, type BatchFile } from './batch';
import type { BatchJournal, BatchProgress } from './batch-journal';
import { isCancelled, toUiError } from './errors';
import { effectiveMethods, type StudioState } from './store';

export type BatchStatus = 'idle' | 'running' | 'paused' | 'done' | 'cancelled';

/** What the journal holds of a batch that did not finish, as the studio offers it for resuming. */
export interface InterruptedBatch {
  modelName: string;
  done: number;
  failures: number;
  total: number;
  savedAt: number;
}

export interface BatchSlice {
  batchFiles: BatchFile[];
  /** One record per evaluated image, in folder order (kept when paused or cancelled). */
  batchRecords: ImageEvaluation[];
  batchFailures: Array<{ name: string; message: string }>;
  batchStatus: BatchStatus;
  /** The methods of the running batch (fixed when it starts). */
  batchMethods: MethodId[];
  /** The detected-set rule of the running batch (fixed when it starts; a labels file overrides it per image). */
  batchDetection: DetectionRule | null;
  /** Index of the next file to evaluate. */
  batchNext: number;
  /** Running time so far (pauses excluded), for the rate and the time left. */
  batchElapsedMs: number;
  /** A batch found in the journal at start that did not finish (null: none). */
  interruptedBatch: InterruptedBatch | null;
  /** Starts a batch over these files with the chosen methods and detection rule (any earlier batch is dropped). */
  startBatch(files: BatchFile[]): Promise<void>;
  /** Stops after the current image; resumeBatch() goes on from the next one. */
  pauseBatch(): void;
  resumeBatch(): Promise<void>;
  /** Stops now (within the current image's next batch of forward passes); the results so far stay. */
  cancelBatch(): Promise<void>;
  /** Reads the journal (at start): sets `interruptedBatch` when a batch did not finish. */
  findInterruptedBatch(): Promise<void>;
  /** Goes on with the interrupted batch from its journal (the same model must be loaded). */
  resumeInterruptedBatch(): Promise<void>;
  /** Forgets the interrupted batch (the journal is cleared). */
  discardInterruptedBatch(): Promise<void>;
}

export interface BatchDeps {
  engine: EngineApi;
  /** Where a running batch is journaled (absent: nothing survives a reload). */
  batchJournal?: BatchJournal;
}

type Slice<T> = StateCreator<StudioState, [], [], T>;

/** The engine has its backend and model (not starting again after a crash). */
function engineReady(state: StudioState): boolean {
  return state.backendStatus === 'ready' && state.modelStatus === 'ready' && state.model !== null;
}

/**
 * Resolves true once a restarted engine has its backend and model again (recoverEngine), false after
 * `timeoutMs`, when the backend could not start, or when `abandoned()` says the caller no longer waits.
 */
async function engineRecovered(get: () => StudioState, abandoned: () => boolean, timeoutMs = 120_000): Promise<boolean> {
  const started = Date.now();
  // recoverEngine starts at once; give it a moment to mark the backend as starting before reading the state.
  await new Promise((resolve) => setTimeout(resolve, 50));
  while (Date.now() - started < timeoutMs && !abandoned()) {
    const state = get();
    if (engineReady(state)) return true;
    if (state.backendStatus === 'error') return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

export function batchSlice(deps: BatchDeps, seq: { batch: number }): Slice<BatchSlice> {
  return (set, get) => {
    const journal = deps.batchJournal;
    /** Journal writes are best effort: a full disk or a private window must not stop the batch. */
    let journalWarned = false;
    const journaled = async (write: () => Promise<void>): Promise<void> => {
      if (journal === undefined) return;
      try {
        await write();
      } catch (error) {
        if (journalWarned) return;
        journalWarned = true;
        set({ notices: [...get().notices, `The folder evaluation's progress cannot be saved in this browser (${(error as Error).message}): it will not survive a reload.`] });
      }
    };
    const progressOf = (state: StudioState): BatchProgress => ({
      version: 1,
      modelName: state.model?.name ?? '',
      methods: state.batchMethods,
      detection: state.batchDetection,
      records: state.batchRecords,
      failures: state.batchFailures,
      next: state.batchNext,
      total: state.batchFiles.length,
      elapsedMs: state.batchElapsedMs,
      savedAt: Date.now(),
    });
    const finished = async (status: 'done' | 'cancelled'): Promise<void> => {
      set({ batchStatus: status });
      await journaled(() => journal!.clear());
    };

    /** Evaluates files from `batchNext` on while the batch `id` is running. */
    const run = async (id: number): Promise<void> => {
      let crashedOn = -1;
      while (id === seq.batch && get().batchStatus === 'running' && get().batchNext < get().batchFiles.length) {
        // A crash between two images (no call in flight to report it): wait for the restarted engine first.
        if (!engineReady(get()) && !(await engineRecovered(get, () => id !== seq.batch))) {
          if (id !== seq.batch) return;
          set({
            batchStatus: 'paused',
            lastError: { code: 'engine-crashed', message: 'The engine is not running: the folder evaluation is paused, its results so far kept; resume when it runs again.', context: 'Evaluating a folder' },
          });
          await journaled(() => journal!.saveProgress(progressOf(get())));
          return;
        }
        if (id !== seq.batch) return;
        const state = get();
        const file = state.batchFiles[state.batchNext]!;
        const started = Date.now();
        const options = optionsForRequest(state.methodOptions);
        try {
          // A labels file beside the image gives its ground truth: the detected set is then those labels.
          const groundTruth = file.labels ? parseLabelsFile(await file.labels.text(), state.model?.labelNames ?? []) : null;
          const detection = groundTruth !== null ? { kind: 'ground-truth' as const, labels: groundTruth } : state.batchDetection;
          const record = await deps.engine.evaluateFile(file.image, file.mask, file.name, {
            methods: state.batchMethods,
            curveSteps: 0,
            ...(detection === null ? {} : { detection }),
            ...(options === undefined ? {} : { options }),
          });
          if (id !== seq.batch) return;
          set({ batchRecords: [...get().batchRecords, record], batchNext: get().batchNext + 1, batchElapsedMs: get().batchElapsedMs + (Date.now() - started) });
        } catch (error) {
          if (id !== seq.batch) return;
          // Cancelled by the user: stop. Superseded by an interactive analysis in the worker: try the same image again.
          if (isCancelled(error)) {
            if (get().batchStatus === 'running') continue;
            return;
          }
          if ((error as { name?: unknown } | null)?.name === 'engine-crashed') {
            const recovered = await engineRecovered(get, () => id !== seq.batch);
            if (id !== seq.batch) return;
            if (!recovered) {
              set({
                batchStatus: 'paused',
                lastError: { code: 'engine-crashed', message: `The engine crashed while evaluating ${file.name} and did not come back: the results so far are kept; resume when it runs again.`, context: 'Evaluating a folder' },
              });
              await journaled(() => journal!.saveProgress(progressOf(get())));
              return;
            }
            if (crashedOn !== state.batchNext) {
              crashedOn = state.batchNext;
              continue;
            }
          }
          const message = toUiError(error, `Evaluating ${file.name}`).message;
          set({ batchFailures: [...get().batchFailures, { name: file.name, message }], batchNext: get().batchNext + 1, batchElapsedMs: get().batchElapsedMs + (Date.now() - started) });
        }
        await journaled(() => journal!.saveProgress(progressOf(get())));
      }
      if (id === seq.batch && get().batchStatus === 'running') await finished('done');
    };

    return {
      batchFiles: [],
      batchRecords: [],
      batchFailures: [],
      batchStatus: 'idle',
      batchMethods: [],
      batchDetection: null,
      batchNext: 0,
      batchElapsedMs: 0,
      interruptedBatch: null,
      startBatch: async (files) => {
        const state = get();
        if (!state.model || files.length === 0) return;
        const methods = effectiveMethods(state);
        if (methods.length === 0) {
          set({ lastError: { code: 'no-methods', message: 'Choose at least one method before evaluating a folder.', context: 'Evaluating a folder' } });
          return;
        }
        const id = ++seq.batch;
        set({ batchFiles: files, batchRecords: [], batchFailures: [], batchStatus: 'running', batchMethods: methods, batchDetection: state.detection, batchNext: 0, batchElapsedMs: 0, interruptedBatch: null });
        await journaled(async () => {
          await journal!.clear();
          await journal!.saveFiles(files);
          await journal!.saveProgress(progressOf(get()));
        });
        await run(id);
      },
      pauseBatch: () => {
        if (get().batchStatus === 'running') set({ batchStatus: 'paused' });
      },
      resumeBatch: async () => {
        if (get().batchStatus !== 'paused') return;
        const id = ++seq.batch;
        set({ batchStatus: 'running' });
        await run(id);
      },
      cancelBatch: async () => {
        const status = get().batchStatus;
        if (status !== 'running' && status !== 'paused') return;
        seq.batch++;
        await finished('cancelled');
        if (status === 'running') {
          try {
            await deps.engine.cancel();
          } catch (error) {
            if (!isCancelled(error)) set({ lastError: toUiError(error, 'Cancelling the folder evaluation') });
          }
        }
      },
      findInterruptedBatch: async () => {
        if (journal === undefined) return;
        let progress: BatchProgress | null = null;
        try {
          progress = await journal.loadProgress();
        } catch {
          return; // no IndexedDB here: nothing was journaled either
        }
        if (progress === null || progress.version !== 1 || progress.next >= progress.total) return;
        if (get().batchStatus === 'running') return;
        set({ interruptedBatch: { modelName: progress.modelName, done: progress.records.length, failures: progress.failures.length, total: progress.total, savedAt: progress.savedAt } });
      },
      resumeInterruptedBatch: async () => {
        const interrupted = get().interruptedBatch;
        if (interrupted === null || journal === undefined) return;
        const context = 'Resuming the folder evaluation';
        let progress: BatchProgress | null;
        let files: BatchFile[] | null;
        try {
          [progress, files] = await Promise.all([journal.loadProgress(), journal.loadFiles()]);
        } catch (error) {
          set({ lastError: toUiError(error, context) });
          return;
        }
        if (progress === null || files === null || files.length !== progress.total) {
          set({ interruptedBatch: null, lastError: { code: 'unknown', message: 'The interrupted folder evaluation could not be read back from this browser\'s storage: start it again.', context } });
          await journaled(() => journal.clear());
          return;
        }
        const model = get().model;
        if (model === null || model.name !== progress.modelName) {
          set({ lastError: { code: 'unknown', message: `The interrupted folder evaluation ran with the model "${progress.modelName}"; load that model first, then resume (now: ${model === null ? 'no model' : `"${model.name}"`}).`, context } });
          return;
        }
        const id = ++seq.batch;
        set({
          interruptedBatch: null,
          batchFiles: files,
          batchRecords: progress.records,
          batchFailures: progress.failures,
          batchMethods: progress.methods,
          batchDetection: progress.detection,
          batchNext: progress.next,
          batchElapsedMs: progress.elapsedMs,
          batchStatus: 'running',
        });
        await run(id);
      },
      discardInterruptedBatch: async () => {
        set({ interruptedBatch: null });
        await journaled(() => journal!.clear());
      },
    };
  };
}
