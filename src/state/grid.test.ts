import { describe, expect, it } from 'vitest';
import type { AnalyzeResult, HeatmapResult } from '../shared/protocol';
import { extrasText, formatNumber, gridAxes, sameObjectOverlap } from './grid';

const map = (method: HeatmapResult['method'], label: number): HeatmapResult => ({
  method,
  label,
  resolution: 'feature',
  shape: [1, 1],
  normalized: new Float32Array(1),
  rawMin: 0,
  rawMax: 1,
  display: new Float32Array(1),
  displayShape: [1, 1],
  extras: {},
});

describe('heatmap grid helpers', () => {
  it('rows are the explained labels with maps, columns the methods in request order', () => {
    const axes = gridAxes({ labels: [5, 3, 9], maps: [map('gradcam', 3), map('cam', 3), map('gradcam', 5), map('cam', 5)] });
    expect(axes).toEqual({ labels: [5, 3], methods: ['gradcam', 'cam'] });
  });

  it('formats extras for captions', () => {
    expect(extrasText({ completenessGap: 0.00123 })).toBe('completeness gap 1.230e-3');
    expect(extrasText({ forwardPasses: 256 })).toBe('forward passes 256'); // counts are whole numbers
    expect(extrasText({})).toBe('');
    expect(extrasText(undefined)).toBe('');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(12345)).toBe('12,345');
    expect(formatNumber(12345.6)).toBe('1.235e+4');
  });
});

describe('the same-object check of MinMax', () => {
  const map = (method: string, label: number, values: number[]) =>
    ({ method, label, normalized: Float32Array.from(values) }) as unknown as AnalyzeResult['maps'][number];
  it('warns when the detected labels have almost the same CAM and MinMax is shown', () => {
    const maps = [map('cam', 1, [0, 0.2, 0.9, 1]), map('cam', 2, [0, 0.25, 0.85, 1]), map('minmax-cam', 1, [1, 0, 0, 0])];
    expect(sameObjectOverlap({ maps, detected: [1, 2] })).toBeGreaterThan(0.95);
  });
  it('says nothing for labels on different objects, without MinMax, or with one label', () => {
    const apart = [map('cam', 1, [1, 0.8, 0, 0]), map('cam', 2, [0, 0, 0.9, 1]), map('minmax-cam', 1, [1, 0, 0, 0])];
    expect(sameObjectOverlap({ maps: apart, detected: [1, 2] })).toBeNull();
    const noContrast = [map('cam', 1, [0, 0.2, 0.9, 1]), map('cam', 2, [0, 0.25, 0.85, 1])];
    expect(sameObjectOverlap({ maps: noContrast, detected: [1, 2] })).toBeNull();
    expect(sameObjectOverlap({ maps: apart, detected: [1] })).toBeNull();
  });
});
