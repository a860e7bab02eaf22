/**
 * The UI's handle on the engine worker. The worker (src/worker/engine.worker.ts) exposes an EngineApi
 * with Comlink; this wraps it so the rest of the UI sees a plain EngineApi (promises, plain data).
 * Callbacks cross the boundary as Comlink proxies. Errors arrive as `Error`s whose `name` is a
 * StudioErrorCode and whose `message` is for the user; a crashed worker becomes an 'engine-crashed' error.
 */
import * as Comlink from 'comlink';
import type { AnalyzeProgress, EngineApi, LoadProgress, MetricsProgress } from '../worker/protocol';

export interface EngineClient extends EngineApi {
  /** Stops the worker (page unload / tests). */
  terminate(): void;
}

export function createEngineClient(): EngineClient {
  const worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'cam-studio-engine' });
  const remote = Comlink.wrap<EngineApi>(worker);

  // A worker that fails to start or dies rejects every pending call instead of leaving it hanging.
  let crash: Error | null = null;
  const pending = new Set<(error: Error) => void>();
  const fail = (message: string): void => {
    crash = Object.assign(new Error(message), { name: 'engine-crashed' });
    for (const reject of pending) reject(crash);
    pending.clear();
  };
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    fail(`The engine worker stopped: ${event.message || 'it failed to load'}. Reload the page to try again.`);
  });
  worker.addEventListener('messageerror', () => fail('The engine worker sent a message that could not be read. Reload the page.'));

  const call = <T>(run: () => Promise<T>): Promise<T> => {
    if (crash) return Promise.reject(crash);
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      run().then(
        (value) => {
          pending.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          pending.delete(reject);
          reject(normalizeError(error));
        },
      );
    });
  };

  return {
    init: (choice) => call(() => remote.init(choice)),
    setBackend: (choice) => call(() => remote.setBackend(choice)),
    loadModel: (source, onProgress) =>
      call(() =>
        onProgress
          ? remote.loadModel(source, Comlink.proxy((progress: LoadProgress) => onProgress(progress)))
          : remote.loadModel(source),
      ),
    configureModel: (options) => call(() => remote.configureModel(options)),
    setImage: (image) => call(() => remote.setImage(image)),
    analyze: (request, onProgress) =>
      call(() =>
        onProgress
          ? remote.analyze(request, Comlink.proxy((progress: AnalyzeProgress) => onProgress(progress)))
          : remote.analyze(request),
      ),
    evaluateMetrics: (request, onProgress) =>
      call(() =>
        onProgress
          ? remote.evaluateMetrics(request, Comlink.proxy((progress: MetricsProgress) => onProgress(progress)))
          : remote.evaluateMetrics(request),
      ),
    evaluateFile: (image, mask, name, request) => call(() => remote.evaluateFile(image, mask, name, request)),
    explainFigureRow: (image, request) => call(() => remote.explainFigureRow(image, request)),
    walkthrough: (request) => call(() => remote.walkthrough(request)),
    analyzeFile: (image, request) => call(() => remote.analyzeFile(image, request)),
    cancel: () => call(() => remote.cancel()),
    memory: () => call(() => remote.memory()),
    terminate: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
      fail('The engine worker was stopped.');
    },
  };
}

/** Whatever the worker threw, as an Error with a string name (the StudioErrorCode) and message. */
function normalizeError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; message?: unknown };
    return Object.assign(new Error(typeof e.message === 'string' ? e.message : 'The engine failed.'), {
      name: typeof e.name === 'string' ? e.name : 'Error',
    });
  }
  return new Error(typeof error === 'string' ? error : 'The engine failed.');
}
