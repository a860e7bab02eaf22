import { useRef } from 'react';
import { formatDuration } from '../shared/format';

/**
 * "about 1 min 20 s left" for a job reporting `done` of `total` steps, from its rate since `key` (the job)
 * started; null until there is a rate to go by (a step done and a second passed). Re-renders come from the
 * progress updates themselves.
 */
export function useTimeLeft(key: string | null, done: number, total: number): string | null {
  const start = useRef<{ key: string; at: number; done: number } | null>(null);
  if (key === null) {
    start.current = null;
    return null;
  }
  const now = performance.now();
  if (start.current?.key !== key || done < start.current.done) start.current = { key, at: now, done };
  const elapsed = now - start.current.at;
  const stepsDone = done - start.current.done;
  if (stepsDone <= 0 || elapsed < 1000 || total <= done) return null;
  return `about ${formatDuration((elapsed / stepsDone) * (total - done))} left`;
}
