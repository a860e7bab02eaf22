/**
 * "The latest request wins", for every kind of request the store sends the engine: starting one aborts the
 * signal of the one before, so a result that arrives after a newer request (or a cancel) is dropped. One
 * AbortController per kind replaces hand-kept sequence numbers; `settle` replaces the block every async
 * action used to write out (stale result, cancelled, failed).
 */
import type { EngineApi } from '../shared/protocol';
import { isCancelled, toUiError, type UiError } from './errors';

export class LatestRequest {
  private controller: AbortController | null = null;
  private count = 0;

  /** Starts a request of this kind: the previous one's signal aborts. */
  begin(): AbortSignal {
    this.controller?.abort();
    this.controller = new AbortController();
    this.count += 1;
    return this.controller.signal;
  }

  /** Makes the running request stale (a cancel, or a change that outdates it) without starting another. */
  abort(): void {
    this.controller?.abort();
  }

  /** True once a request of this kind was ever started. */
  get started(): boolean {
    return this.count > 0;
  }
}

/** The requests of one store, by kind. */
export interface StoreRequests {
  backend: LatestRequest;
  load: LatestRequest;
  configure: LatestRequest;
  image: LatestRequest;
  analyze: LatestRequest;
  metrics: LatestRequest;
  batch: LatestRequest;
  figure: LatestRequest;
  walkthrough: LatestRequest;
  inspector: LatestRequest;
}

export function storeRequests(): StoreRequests {
  return {
    backend: new LatestRequest(),
    load: new LatestRequest(),
    configure: new LatestRequest(),
    image: new LatestRequest(),
    analyze: new LatestRequest(),
    metrics: new LatestRequest(),
    batch: new LatestRequest(),
    figure: new LatestRequest(),
    walkthrough: new LatestRequest(),
    inspector: new LatestRequest(),
  };
}

export type Outcome<T> =
  | { kind: 'done'; value: T }
  | { kind: 'cancelled' }
  | { kind: 'failed'; error: unknown }
  /** `late`: what the engine answered anyway (undefined when it failed), e.g. to free a bitmap nobody will show. */
  | { kind: 'stale'; late: T | undefined };

/**
 * Awaits one request and says how it ended: 'stale' when a newer request of its kind (or an abort) came
 * meanwhile, whatever the engine answered; else 'done', 'cancelled' (the engine's `cancelled` error) or
 * 'failed'.
 */
export async function settle<T>(signal: AbortSignal, request: Promise<T>): Promise<Outcome<T>> {
  try {
    const value = await request;
    return signal.aborted ? { kind: 'stale', late: value } : { kind: 'done', value };
  } catch (error) {
    if (signal.aborted) return { kind: 'stale', late: undefined };
    return isCancelled(error) ? { kind: 'cancelled' } : { kind: 'failed', error };
  }
}

/** Asks the engine to stop what it runs (cancel buttons); an error other than "cancelled" is reported. */
export async function cancelRunning(engine: Pick<EngineApi, 'cancel'>, report: (error: UiError) => void, context: string): Promise<void> {
  try {
    await engine.cancel();
  } catch (error) {
    if (!isCancelled(error)) report(toUiError(error, context));
  }
}
