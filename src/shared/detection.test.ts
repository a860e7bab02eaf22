import { describe, expect, it } from 'vitest';
import { parseLabelList, ruleFromText, ruleOfKind, ruleValueText, sameRule } from './detection';

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
