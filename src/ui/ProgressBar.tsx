import type { LoadProgress } from '../shared/protocol';

const STAGE_TEXT: Record<LoadProgress['stage'], string> = {
  fetching: 'Downloading weights',
  building: 'Building the model',
  'warming-up': 'Warming up',
};

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit] ?? 'B'}`;
}

/** Model load progress: determinate while downloading with a known size, indeterminate otherwise. */
export function LoadProgressBar({ progress }: { progress: LoadProgress | null }) {
  const known = progress !== null && progress.stage === 'fetching' && progress.totalBytes > 0;
  const fraction = known ? Math.min(1, progress.loadedBytes / progress.totalBytes) : 0;
  const label = progress
    ? progress.stage === 'fetching'
      ? `${STAGE_TEXT.fetching}: ${formatBytes(progress.loadedBytes)}${progress.totalBytes > 0 ? ` of ${formatBytes(progress.totalBytes)}` : ''}`
      : `${STAGE_TEXT[progress.stage]}…`
    : 'Starting…';
  return (
    <div className="progress" data-testid="load-progress">
      {known ? <progress max={1} value={fraction} aria-label="Model download progress" /> : <progress aria-label="Model load progress" />}
      <span className="progress-label">{label}</span>
    </div>
  );
}
