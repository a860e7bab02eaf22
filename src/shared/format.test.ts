import { describe, expect, it } from 'vitest';
import { formatCount, formatDuration, formatProbability, formatValue } from './format';

describe('number formatting', () => {
  it('writes counts as whole numbers', () => {
    expect(formatCount(256)).toBe('256');
    expect(formatCount(12345.4)).toBe('12,345');
    expect(formatValue(256)).toBe('256');
  });
  it('keeps small probabilities readable, without exponents', () => {
    expect(formatProbability(0.958)).toBe('95.8%');
    expect(formatProbability(0.019)).toBe('1.9%');
    expect(formatProbability(0.00063)).toBe('0.063%');
    expect(formatProbability(0.0000213)).toBe('0.0021%');
    expect(formatProbability(1e-9)).toBe('< 0.0001%');
    expect(formatProbability(0)).toBe('0%');
  });
  it('writes durations in ms, s, min and h', () => {
    expect(formatDuration(412.4)).toBe('412 ms');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(837_884)).toBe('13 min 58 s');
    expect(formatDuration(3_725_000)).toBe('1 h 02 min');
  });
  it('keeps measured values legible', () => {
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(0.000123)).toBe('1.230e-4');
  });
});
