/**
 * The UI's handle on the engine worker. The worker (src/worker/engine.worker.ts) exposes an EngineApi
 * with Comlink; this wraps it so the rest of the UI sees a plain EngineApi (promises, plain data).
 * Callbacks cross the boundary as Comlink proxies. Errors arrive as `Error`s whose `name` is a
 * StudioErrorCode and whose `message` is for the user.
 *
 * A worker that dies (an uncaught error, a failed start, out of memory) rejects every pending call with an
 * 'engine-crashed' error, and is replaced by a fresh one at once; `onRestart` listeners (the store) then
 * start the backend again, reload the model and redo the pending work. After MAX_RESTARTS crashes within
 * RESTART_WINDOW_MS the client stops restarting and every call fails with the reason.
 */
import * as Comlink from 'comlink';
import {
  DEVICE_LOST_MESSAGE,
  type AnalyzeProgress,
  type DeviceLostMessage,
  type EngineApi,
  type HostInfo,
  type LoadProgress,
  type MetricsProgress,
} from '../shared/protocol';

export interface EngineClient extends EngineApi {
  /** Stops the worker (page unload / tests). */
  terminate(): void;
  /** Called after a crashed worker was replaced, with the crash's message and what happened. */
  onRestart(listener: (reason: string, cause: RestartCause) => void): void;
  /** Kills the worker as a crash would (for the recovery test and for trying it by hand). */
  simulateCrash(): void;
}

/** Why a worker was replaced: it died, or its WebGPU device was lost (it is then replaced on purpose). */
export type RestartCause = 'crash' | 'device-lost';

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

export function createEngineClient(): EngineClient {
  let worker!: Worker;
  let remote!: Comlink.Remote<EngineApi>;
  // A dead worker with no restart left rejects every call with this.
  let crash: Error | null = null;
  const pending = new Set<(error: Error) => void>();
  const listeners: Array<(reason: string, cause: RestartCause) => void> = [];
  const restarts: number[] = [];

  const start = (): void => {
    worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'cam-studio-engine' });
    remote = Comlink.wrap<EngineApi>(worker);
    const current = worker;
    current.addEventListener('error', (event) => {
      event.preventDefault();
      if (current === worker) died(`The engine worker stopped: ${event.message || 'it failed to load'}.`);
    });
    current.addEventListener('messageerror', () => {
      if (current === worker) died('The engine worker sent a message that could not be read.');
    });
    // Comlink ignores messages without its ids; this one is the worker's own (protocol.ts).
    current.addEventListener('message', (event: MessageEvent<unknown>) => {
      const data = event.data as Partial<DeviceLostMessage> | null;
      if (current === worker && data?.type === DEVICE_LOST_MESSAGE)
        died(`The GPU device was lost (${String(data.message)}).`, 'device-lost');
    });
  };

  const died = (message: string, cause: RestartCause = 'crash'): void => {
    const error = Object.assign(new Error(message), { name: 'engine-crashed' });
    for (const reject of pending) reject(error);
    pending.clear();
    remote[Comlink.releaseProxy]();
    worker.terminate();
    const now = Date.now();
    while (restarts.length > 0 && now - restarts[0]! > RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length >= MAX_RESTARTS) {
      crash = Object.assign(
        new Error(`${message} It crashed ${MAX_RESTARTS + 1} times in a minute, so it was not restarted again: reload the page.`),
        { name: 'engine-crashed' },
      );
      return;
    }
    restarts.push(now);
    start();
    for (const listener of listeners) listener(message, cause);
  };

  start();

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
    init: (choice, host = hostInfo()) => call(() => remote.init(choice, host)),
    setBackend: (choice) => call(() => remote.setBackend(choice)),
    loadModel: (source, onProgress) =>
      call(() =>
        onProgress
          ? remote.loadModel(
              source,
              Comlink.proxy((progress: LoadProgress) => onProgress(progress)),
            )
          : remote.loadModel(source),
      ),
    configureModel: (options) => call(() => remote.configureModel(options)),
    setImage: (image) => call(() => remote.setImage(image)),
    analyze: (request, onProgress) =>
      call(() =>
        onProgress
          ? remote.analyze(
              request,
              Comlink.proxy((progress: AnalyzeProgress) => onProgress(progress)),
            )
          : remote.analyze(request),
      ),
    evaluateMetrics: (request, onProgress) =>
      call(() =>
        onProgress
          ? remote.evaluateMetrics(
              request,
              Comlink.proxy((progress: MetricsProgress) => onProgress(progress)),
            )
          : remote.evaluateMetrics(request),
      ),
    evaluateFile: (image, mask, name, request) => call(() => remote.evaluateFile(image, mask, name, request)),
    explainFigureRow: (image, request) => call(() => remote.explainFigureRow(image, request)),
    walkthrough: (request) => call(() => remote.walkthrough(request)),
    analyzeFile: (image, request) => call(() => remote.analyzeFile(image, request)),
    cancel: () => call(() => remote.cancel()),
    memory: () => call(() => remote.memory()),
    modelInput: () => call(() => remote.modelInput()),
    simulateDeviceLoss: () => call(() => remote.simulateDeviceLoss()),
    terminate: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
      crash = Object.assign(new Error('The engine worker was stopped.'), { name: 'engine-crashed' });
      for (const reject of pending) reject(crash);
      pending.clear();
    },
    onRestart: (listener) => {
      listeners.push(listener);
    },
    simulateCrash: () => died('The engine worker was killed (a simulated crash).'),
  };
}

/** What the worker is told about the machine: the page's navigator.deviceMemory (a worker's may differ in tests). */
function hostInfo(): HostInfo {
  const memory = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  return typeof memory === 'number' ? { deviceMemoryGiB: memory } : {};
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
