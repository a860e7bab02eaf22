import { describe, expect, it } from 'vitest';
import { LatestRequest, cancelRunning, settle } from './latest';

const cancelled = (): Error => Object.assign(new Error('stop'), { name: 'cancelled' });

describe('the latest request wins', () => {
  it('a newer request makes the older one stale, whatever the engine answered', async () => {
    const kind = new LatestRequest();
    expect(kind.started).toBe(false);
    const first = kind.begin();
    const second = kind.begin();
    expect(kind.started).toBe(true);
    expect(await settle(first, Promise.resolve('old'))).toEqual({ kind: 'stale', late: 'old' });
    expect(await settle(second, Promise.resolve('new'))).toEqual({ kind: 'done', value: 'new' });
  });

  it('tells a cancellation from a failure, and an aborted request is stale either way', async () => {
    const kind = new LatestRequest();
    const signal = kind.begin();
    expect(await settle(signal, Promise.reject(cancelled()))).toEqual({ kind: 'cancelled' });
    const failure = new Error('boom');
    expect(await settle(signal, Promise.reject(failure))).toEqual({ kind: 'failed', error: failure });
    kind.abort();
    expect(await settle(signal, Promise.reject(failure))).toEqual({ kind: 'stale', late: undefined });
  });

  it('a cancel that fails is reported, one that says "cancelled" is not', async () => {
    const reported: string[] = [];
    await cancelRunning({ cancel: () => Promise.reject(cancelled()) }, (error) => reported.push(error.message), 'Cancelling');
    await cancelRunning({ cancel: () => Promise.reject(new Error('worker gone')) }, (error) => reported.push(error.message), 'Cancelling');
    expect(reported).toEqual(['worker gone']);
  });
});
