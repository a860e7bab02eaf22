import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { PREPROCESSING } from '../shared/model-metadata';
import { METHOD_OPTION_FIELDS } from '../shared/options';
import { flagValue, methodsHelp, optionalFlag, parseDetectFlag, parseMethodsFlag, parseNumberList, UsageError } from './args';

describe('command-line flags read through the shared schemas', () => {
  it('a bad value names the flag, the value and what is allowed', () => {
    expect(() => flagValue('preprocessing', PREPROCESSING, 'bogus')).toThrow(UsageError);
    expect(() => flagValue('preprocessing', PREPROCESSING, 'bogus')).toThrow(
      '--preprocessing is "bogus": allowed is one of caffe, tf, torch, unit',
    );
    expect(() => flagValue('smooth', METHOD_OPTION_FIELDS.smoothgrad.samples, '2.5')).toThrow(
      '--smooth is "2.5": allowed is a whole number from 1 to 1000',
    );
    expect(() => flagValue('smooth', METHOD_OPTION_FIELDS.smoothgrad.samples, '')).toThrow(/allowed is a whole number/);
    expect(flagValue('preprocessing', PREPROCESSING, 'torch')).toBe('torch');
    expect(flagValue('smooth', METHOD_OPTION_FIELDS.smoothgrad.samples, ' 8 ')).toBe(8);
    // Issue #17's values: 0 and 100000000 samples, 0 steps, 0 Score-CAM channels, an empty label list.
    for (const text of ['0', '100000000'])
      expect(() => flagValue('smoothgrad-samples', METHOD_OPTION_FIELDS.smoothgrad.samples, text)).toThrow(/from 1 to 1000/);
    expect(() => flagValue('ig-steps', METHOD_OPTION_FIELDS.integratedGradients.steps, '0')).toThrow(/from 1 to/);
    expect(v.safeParse(METHOD_OPTION_FIELDS.scorecam.maxChannels.schema, 0).success).toBe(false);
    expect(() => parseNumberList('', 'labels')).toThrow(/comma-separated class indices/);
    expect(optionalFlag('smooth', METHOD_OPTION_FIELDS.smoothgrad.samples, undefined)).toBeUndefined();
  });

  it('methods, label lists and detection rules', () => {
    expect(parseMethodsFlag('gradcam, cam,gradcam', () => [])).toEqual(['gradcam', 'cam']);
    expect(parseMethodsFlag('all', () => ['cam'])).toEqual(['cam']);
    expect(() => parseMethodsFlag('gradcam,nope', () => [])).toThrow(/unknown method\(s\): nope/);
    expect(parseNumberList('285,281', 'labels')).toEqual([285, 281]);
    expect(() => parseNumberList('285,x', 'labels')).toThrow(/comma-separated class indices/);
    expect(parseDetectFlag('topk:2')).toEqual({ kind: 'top-k', k: 2 });
    expect(() => parseDetectFlag('topk:0')).toThrow(/--detect: Cannot read the detection rule/);
    expect(methodsHelp()).toMatch(/Perturbation: scorecam \(Score-CAM, long\)/);
  });
});
