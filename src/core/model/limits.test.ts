import { describe, expect, it } from 'vitest';
import { MAX_WEIGHT_BYTES, modelWeightLimit, workingMemoryBudget } from './limits';

describe('modelWeightLimit', () => {
  it('allows a quarter of the reported memory, capped, and says why', () => {
    expect(modelWeightLimit(1)).toEqual({
      bytes: 256 * 1024 ** 2,
      why: expect.stringMatching(/quarter of the 1 GiB of memory this device reports/),
    });
    expect(modelWeightLimit(0.5).bytes).toBe(128 * 1024 ** 2);
    expect(modelWeightLimit(8).bytes).toBe(MAX_WEIGHT_BYTES);
    expect(modelWeightLimit(8).why).toMatch(/most a browser tab/);
  });

  it('assumes 4 GiB when the browser does not say', () => {
    for (const unknown of [undefined, Number.NaN, 0, -1]) {
      const limit = modelWeightLimit(unknown);
      expect(limit.bytes).toBe(1024 ** 3);
      expect(limit.why).toMatch(/assumed/);
    }
  });
});

describe('workingMemoryBudget', () => {
  it('is an eighth of the memory, at most 1 GiB', () => {
    expect(workingMemoryBudget(1)).toBe(128 * 1024 ** 2);
    expect(workingMemoryBudget(8)).toBe(1024 ** 3);
    expect(workingMemoryBudget(undefined)).toBe(512 * 1024 ** 2);
  });
});
