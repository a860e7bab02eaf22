import { describe, expect, it } from 'vitest';
import { defaultDetectionRule as coreDefaultRule, describeDetectionRule, parseDetectionRule } from '../core/detection';
import { DEFAULT_METHOD_OPTIONS as CORE_DEFAULTS } from '../core/methods/context';
import {
  DEFAULT_METHOD_OPTIONS,
  defaultDetectionRule,
  describeRule,
  mergeMethodOptions,
  optionsForRequest,
  parseIntegerField,
  parseLabelList,
  parseMaxChannels,
  ruleFromText,
  ruleOfKind,
  ruleValueText,
  sameRule,
} from './analysis-options';

describe('UI-side copies of the engine defaults', () => {
  it('match core DEFAULT_METHOD_OPTIONS', () => {
    expect(DEFAULT_METHOD_OPTIONS).toEqual(CORE_DEFAULTS);
  });

  it('match core defaultDetectionRule and describeDetectionRule', () => {
    for (const activation of ['softmax', 'sigmoid', 'linear'] as const) {
      expect(defaultDetectionRule(activation)).toEqual(coreDefaultRule(activation));
    }
    for (const text of ['sigmoid:0.5', 'prob:0.2', 'topk:3', 'gt:12,15']) {
      const rule = parseDetectionRule(text);
      expect(describeRule(rule)).toBe(describeDetectionRule(rule));
    }
  });
});

describe('detection rules from the editor', () => {
  it('reads thresholds, k and ground-truth labels, rejecting bad values', () => {
    expect(ruleFromText('sigmoid', '0.3', 1000)).toEqual({ rule: { kind: 'sigmoid', threshold: 0.3 } });
    expect(ruleFromText('probability', ' 0.05 ', 1000)).toEqual({ rule: { kind: 'probability', threshold: 0.05 } });
    expect(ruleFromText('probability', '1.5', 1000)).toHaveProperty('error');
    expect(ruleFromText('sigmoid', '', 1000)).toHaveProperty('error');
    expect(ruleFromText('top-k', '5', 1000)).toEqual({ rule: { kind: 'top-k', k: 5 } });
    expect(ruleFromText('top-k', '2.5', 1000)).toHaveProperty('error');
    expect(ruleFromText('top-k', '0', 1000)).toHaveProperty('error');
    expect(ruleFromText('top-k', '11', 10)).toHaveProperty('error');
    expect(ruleFromText('ground-truth', '281, 285,281 282', 1000)).toEqual({ rule: { kind: 'ground-truth', labels: [281, 285, 282] } });
  });

  it('parses label lists within the model classes', () => {
    expect(parseLabelList('1,2 ; 3', 10)).toEqual({ labels: [1, 2, 3] });
    expect(parseLabelList('', 10)).toHaveProperty('error');
    expect(parseLabelList('1, x', 10)).toEqual({ error: '"x" is not a class index (a whole number).' });
    expect(parseLabelList('-1', 10)).toHaveProperty('error');
    expect(parseLabelList('10', 10)).toEqual({ error: 'Class 10 does not exist: this model has classes 0 to 9.' });
  });

  it('switches kinds keeping what can be kept', () => {
    const top3 = { kind: 'top-k', k: 3 } as const;
    expect(ruleOfKind('top-k', top3, [])).toBe(top3);
    expect(ruleOfKind('probability', { kind: 'sigmoid', threshold: 0.3 }, [])).toEqual({ kind: 'probability', threshold: 0.3 });
    expect(ruleOfKind('sigmoid', top3, [])).toEqual({ kind: 'sigmoid', threshold: 0.5 });
    expect(ruleOfKind('ground-truth', top3, [281, 285])).toEqual({ kind: 'ground-truth', labels: [281, 285] });
    expect(ruleValueText({ kind: 'ground-truth', labels: [1, 2] })).toBe('1, 2');
    expect(ruleValueText({ kind: 'probability', threshold: 0.25 })).toBe('0.25');
    expect(sameRule(null, undefined)).toBe(true);
    expect(sameRule(top3, { kind: 'top-k', k: 3 })).toBe(true);
    expect(sameRule(top3, null)).toBe(false);
  });
});

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
    expect(merged.scorecam).toEqual({ variant: 'probability', batchSize: 1, maxChannels: null });
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
