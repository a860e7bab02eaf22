/**
 * How numbers are written for people, the same in the studio and on the command line: counts as whole
 * numbers, probabilities as percentages that stay readable when small, durations in ms / s / min / h.
 * Pure; no DOM, no TF.js.
 */

/** A count: "256", "12,345". */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.round(value).toLocaleString('en-US');
}

/**
 * A probability in [0, 1] as a percentage: "95.8%", "1.9%", then two significant digits ("0.063%",
 * "0.0021%"), and "< 0.0001%" below that; never exponent notation.
 */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return '–';
  const percent = p * 100;
  if (percent === 0) return '0%';
  if (percent >= 0.1) return `${percent.toFixed(1)}%`;
  if (percent < 0.0001) return '< 0.0001%';
  return `${Number(percent.toPrecision(2)).toString()}%`;
}

/** A duration: "840 ms", "12.3 s", "4 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  const minutes = Math.round(whole / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A measured value with no unit: whole numbers as counts, else 4 significant decimals or exponent form. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return formatCount(value);
  return Math.abs(value) >= 1000 || (Math.abs(value) < 0.01 && value !== 0) ? value.toExponential(3) : value.toFixed(4);
}
