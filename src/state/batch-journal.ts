/**
 * The folder evaluation's journal: what a running batch has done, kept in the browser (IndexedDB, through
 * idb-keyval) so that a batch interrupted by a closed tab, a reload or a crash resumes where it stopped.
 * Two entries: the files (images, masks, labels files as Blobs; written once when the batch starts) and the
 * progress (settings, records, failures, next index; rewritten after every image, small). Nothing leaves
 * the machine; a finished, cancelled or discarded batch is deleted.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { DetectionRule } from '../shared/detection';
import type { ImageEvaluation } from '../shared/metrics/report';
import type { MethodId } from '../shared/methods';
import type { BatchFile } from './batch';

export interface BatchProgress {
  version: 1;
  /** The model the batch ran with (its display name): resuming needs the same one. */
  modelName: string;
  methods: MethodId[];
  detection: DetectionRule | null;
  records: ImageEvaluation[];
  failures: Array<{ name: string; message: string }>;
  /** Index of the next file to evaluate. */
  next: number;
  total: number;
  elapsedMs: number;
  /** ms since the epoch of the last write. */
  savedAt: number;
}

export interface BatchJournal {
  saveFiles(files: BatchFile[]): Promise<void>;
  saveProgress(progress: BatchProgress): Promise<void>;
  loadProgress(): Promise<BatchProgress | null>;
  loadFiles(): Promise<BatchFile[] | null>;
  clear(): Promise<void>;
}

const FILES_KEY = 'batch-files';
const PROGRESS_KEY = 'batch-progress';

/** The journal in IndexedDB (database "cam-studio", store "batch"). */
export function indexedDbBatchJournal(): BatchJournal {
  let store: UseStore | null = null;
  const db = (): UseStore => (store ??= createStore('cam-studio', 'batch'));
  return {
    saveFiles: (files) =>
      set(
        FILES_KEY,
        files.map((file) => ({ name: file.name, image: file.image, mask: file.mask, labels: file.labels ?? null })),
        db(),
      ),
    saveProgress: (progress) => set(PROGRESS_KEY, progress, db()),
    loadProgress: async () => (await get<BatchProgress>(PROGRESS_KEY, db())) ?? null,
    loadFiles: async () => (await get<BatchFile[]>(FILES_KEY, db())) ?? null,
    clear: async () => {
      await del(PROGRESS_KEY, db());
      await del(FILES_KEY, db());
    },
  };
}

/** The same in memory (tests; browsers without IndexedDB, where nothing survives a reload). */
export function memoryBatchJournal(): BatchJournal & { writes: number } {
  let files: BatchFile[] | null = null;
  let progress: BatchProgress | null = null;
  const journal = {
    writes: 0,
    saveFiles: async (next: BatchFile[]) => {
      files = [...next];
      journal.writes += 1;
    },
    saveProgress: async (next: BatchProgress) => {
      progress = structuredClone(next);
      journal.writes += 1;
    },
    loadProgress: async () => (progress === null ? null : structuredClone(progress)),
    loadFiles: async () => files,
    clear: async () => {
      files = null;
      progress = null;
    },
  };
  return journal;
}
