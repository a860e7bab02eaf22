import { describe, expect, it } from 'vitest';
import { isStudioError } from '../shared/errors';
import type { AnalyzeRequest, EngineApi } from '../shared/protocol';
import { validatedApi } from './validated-api';

/** An engine that records what reached it. */
function recordingEngine(): { engine: EngineApi; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const record =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push([name, ...args]);
      return undefined as never;
    };
  const engine = new Proxy({} as EngineApi, { get: (_target, name) => record(String(name)) });
  return { engine, calls };
}

const request: AnalyzeRequest = { labels: 'auto', methods: ['cam', 'gradcam'], topK: 5, displaySize: [224, 224] };

describe('the engine as the page reaches it', () => {
  it('passes valid calls through, parsed', async () => {
    const { engine, calls } = recordingEngine();
    const api = validatedApi(engine);
    await api.analyze({ ...request, options: { scorecam: { variant: 'probability', batchSize: 8, maxChannels: null } } });
    await api.configureModel({ preprocessing: 'torch' });
    await api.walkthrough({ label: 3, contrastLabel: null, channels: 8 });
    expect(calls.map((call) => call[0])).toEqual(['analyze', 'configureModel', 'walkthrough']);
    expect(calls[0]![1]).toMatchObject({ labels: 'auto', methods: ['cam', 'gradcam'] });
  });

  it('refuses a malformed call with an invalid-input error naming the field, the value and what is allowed', async () => {
    const { engine, calls } = recordingEngine();
    const api = validatedApi(engine);
    const refused = async (call: () => Promise<unknown>): Promise<string> => {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isStudioError(error, 'invalid-input'), String(error)).toBe(true);
      return (error as Error).message;
    };
    expect(await refused(() => api.analyze({ ...request, methods: ['cam', 'nope' as never] }))).toMatch(
      /methods\.1 is "nope": allowed is one of cam, /,
    );
    expect(await refused(() => api.analyze({ ...request, topK: 0 }))).toMatch(/topK is 0: allowed is a whole number from 1 to 1000/);
    expect(
      await refused(() => api.analyze({ ...request, options: { scorecam: { variant: 'probability', batchSize: 0, maxChannels: null } } })),
    ).toMatch(/options\.scorecam\.batchSize is 0: allowed is a whole number from 1 to 1024/);
    expect(await refused(() => api.configureModel({ preprocessing: 'bogus' as never }))).toMatch(
      /preprocessing is "bogus": allowed is one of caffe, tf, torch, unit/,
    );
    expect(await refused(() => api.setBackend('gpu' as never))).toMatch(/The backend: the value is "gpu"/);
    expect(await refused(() => api.evaluateMetrics({ methods: ['cam'], curveSteps: -1 }))).toMatch(/curveSteps is -1/);
    expect(await refused(() => api.setImage('not a blob' as never))).toMatch(/The image/);
    expect(calls).toEqual([]);
  });
});
