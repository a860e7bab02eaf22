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
import { optionsForRequest } from '../../shared/options';
import { parseLabelsFile } from '../../shared/metrics/report';
import type { BatchFile } from '../batch';
import type { BatchProgress } from '../batch-journal';
import { isCancelled, toUiError } from '../errors';
import { cancelRunning, type StoreRequests } from '../latest';
import { effectiveMethods, engineReady } from '../selectors';
import type { BatchSlice, GetState, Slice, StudioDeps, StudioState } from '../types';

/**
 * Resolves true once a restarted engine has its backend and model again (recoverEngine), false after
 * `timeoutMs`, when the backend could not start, or when `abandoned()` says the caller no longer waits.
 */
async function engineRecovered(get: GetState, abandoned: () => boolean, timeoutMs = 120_000): Promise<boolean> {
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

export function batchSlice(deps: Pick<StudioDeps, 'engine' | 'batchJournal'>, requests: StoreRequests): Slice<BatchSlice> {
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
        set({
          notices: [
            ...get().notices,
            `The folder evaluation's progress cannot be saved in this browser (${(error as Error).message}): it will not survive a reload.`,
          ],
        });
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

    /** Evaluates files from `batchNext` on while the batch of `signal` is running. */
    const run = async (signal: AbortSignal): Promise<void> => {
      let crashedOn = -1;
      while (!signal.aborted && get().batchStatus === 'running' && get().batchNext < get().batchFiles.length) {
        // A crash between two images (no call in flight to report it): wait for the restarted engine first.
        if (!engineReady(get()) && !(await engineRecovered(get, () => signal.aborted))) {
          if (signal.aborted) return;
          set({
            batchStatus: 'paused',
            lastError: {
              code: 'engine-crashed',
              message: 'The engine is not running: the folder evaluation is paused, its results so far kept; resume when it runs again.',
              context: 'Evaluating a folder',
            },
          });
          await journaled(() => journal!.saveProgress(progressOf(get())));
          return;
        }
        if (signal.aborted) return;
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
          if (signal.aborted) return;
          set({
            batchRecords: [...get().batchRecords, record],
            batchNext: get().batchNext + 1,
            batchElapsedMs: get().batchElapsedMs + (Date.now() - started),
          });
        } catch (error) {
          if (signal.aborted) return;
          // Cancelled by the user: stop. Superseded by an interactive analysis in the worker: try the same image again.
          if (isCancelled(error)) {
            if (get().batchStatus === 'running') continue;
            return;
          }
          if ((error as { name?: unknown } | null)?.name === 'engine-crashed') {
            const recovered = await engineRecovered(get, () => signal.aborted);
            if (signal.aborted) return;
            if (!recovered) {
              set({
                batchStatus: 'paused',
                lastError: {
                  code: 'engine-crashed',
                  message: `The engine crashed while evaluating ${file.name} and did not come back: the results so far are kept; resume when it runs again.`,
                  context: 'Evaluating a folder',
                },
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
          set({
            batchFailures: [...get().batchFailures, { name: file.name, message }],
            batchNext: get().batchNext + 1,
            batchElapsedMs: get().batchElapsedMs + (Date.now() - started),
          });
        }
        await journaled(() => journal!.saveProgress(progressOf(get())));
      }
      if (!signal.aborted && get().batchStatus === 'running') await finished('done');
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
          set({
            lastError: {
              code: 'no-methods',
              message: 'Choose at least one method before evaluating a folder.',
              context: 'Evaluating a folder',
            },
          });
          return;
        }
        const signal = requests.batch.begin();
        set({
          batchFiles: files,
          batchRecords: [],
          batchFailures: [],
          batchStatus: 'running',
          batchMethods: methods,
          batchDetection: state.detection,
          batchNext: 0,
          batchElapsedMs: 0,
          interruptedBatch: null,
        });
        await journaled(async () => {
          await journal!.clear();
          await journal!.saveFiles(files);
          await journal!.saveProgress(progressOf(get()));
        });
        await run(signal);
      },
      pauseBatch: () => {
        if (get().batchStatus === 'running') set({ batchStatus: 'paused' });
      },
      resumeBatch: async () => {
        if (get().batchStatus !== 'paused') return;
        const signal = requests.batch.begin();
        set({ batchStatus: 'running' });
        await run(signal);
      },
      cancelBatch: async () => {
        const status = get().batchStatus;
        if (status !== 'running' && status !== 'paused') return;
        requests.batch.abort();
        await finished('cancelled');
        if (status === 'running') await cancelRunning(deps.engine, (lastError) => set({ lastError }), 'Cancelling the folder evaluation');
      },
      findInterruptedBatch: async () => {
        if (journal === undefined) return;
        let progress: BatchProgress | null;
        try {
          progress = await journal.loadProgress();
        } catch {
          return; // no IndexedDB here: nothing was journaled either
        }
        if (progress === null || progress.version !== 1 || progress.next >= progress.total) return;
        if (get().batchStatus === 'running') return;
        set({
          interruptedBatch: {
            modelName: progress.modelName,
            done: progress.records.length,
            failures: progress.failures.length,
            total: progress.total,
            savedAt: progress.savedAt,
          },
        });
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
          set({
            interruptedBatch: null,
            lastError: {
              code: 'unknown',
              message: "The interrupted folder evaluation could not be read back from this browser's storage: start it again.",
              context,
            },
          });
          await journaled(() => journal.clear());
          return;
        }
        const model = get().model;
        if (model === null || model.name !== progress.modelName) {
          set({
            lastError: {
              code: 'unknown',
              message: `The interrupted folder evaluation ran with the model "${progress.modelName}"; load that model first, then resume (now: ${model === null ? 'no model' : `"${model.name}"`}).`,
              context,
            },
          });
          return;
        }
        const signal = requests.batch.begin();
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
        await run(signal);
      },
      discardInterruptedBatch: async () => {
        set({ interruptedBatch: null });
        await journaled(() => journal!.clear());
      },
    };
  };
}
