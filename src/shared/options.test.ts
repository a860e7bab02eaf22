import { describe, expect, it } from 'vitest';
import {
  DEFAULT_METHOD_OPTIONS,
  mergeMethodOptions,
  optionsForRequest,
  parseIntegerField,
  parseMaxChannels,
  SCORECAM_DEFAULT_CHANNELS,
} from './options';

describe('method options', () => {
  it('sends only the families that differ from the defaults, each whole', () => {
    expect(optionsForRequest(DEFAULT_METHOD_OPTIONS)).toBeUndefined();
    const changed = mergeMethodOptions(DEFAULT_METHOD_OPTIONS, { scorecam: { maxChannels: 64 } });
    expect(optionsForRequest(changed)).toEqual({ scorecam: { variant: 'probability', batchSize: 16, maxChannels: 64 } });
    const both = mergeMethodOptions(changed, { integratedGradients: { steps: 64 } });
    expect(optionsForRequest(both)).toEqual({
      scorecam: { variant: 'probability', batchSize: 16, maxChannels: 64 },
      integratedGradients: { steps: 64, batchSize: 8 },
    });
  });

  it('clamps numbers and ignores bad ones', () => {
    const merged = mergeMethodOptions(DEFAULT_METHOD_OPTIONS, {
      scorecam: { batchSize: 0, maxChannels: Number.NaN, variant: 'nonsense' as never },
      smoothgrad: { noiseLevel: 3, samples: 12.4 },
      integratedGradients: { steps: Number.NaN },
    });
    expect(merged.scorecam).toEqual({ variant: 'probability', batchSize: 1, maxChannels: SCORECAM_DEFAULT_CHANNELS });
    expect(merged.smoothgrad).toEqual({ samples: 12, noiseLevel: 1, seed: 0 });
    expect(merged.integratedGradients.steps).toBe(32);
    expect(mergeMethodOptions(merged, { scorecam: { maxChannels: null } }).scorecam.maxChannels).toBeNull();
  });

  it('parses the option fields', () => {
    expect(parseMaxChannels('')).toEqual({ value: null });
    expect(parseMaxChannels(' 128 ')).toEqual({ value: 128 });
    expect(parseMaxChannels('0')).toHaveProperty('error');
    expect(parseIntegerField('20', 1, 1000, 'Samples')).toEqual({ value: 20 });
    expect(parseIntegerField('1.5', 1, 1000, 'Samples')).toEqual({ error: 'Samples is a whole number from 1 to 1000.' });
  });
});
