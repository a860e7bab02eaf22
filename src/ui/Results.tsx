import { isSlowMethod, methodTitle as titleOf } from '../shared/methods';
import { useStudio } from '../state/react';
import { HeatmapGrid } from './HeatmapGrid';
import { formatCount, formatDuration } from '../shared/format';
import { useTimeLeft } from './useTimeLeft';
import { useMemo } from 'react';
import { sameObjectOverlap } from '../state/grid';

/** Predictions and heatmaps; `data-state` tells idle / busy / done / error. */
export function Results() {
  const status = useStudio((s) => s.analysisStatus);
  const hasImage = useStudio((s) => s.image !== null || s.pendingImage !== null);
  const timings = useStudio((s) => s.result?.timingsMs ?? null);
  const reused = useStudio((s) => s.result?.forwardReused ?? false);
  const backend = useStudio((s) => s.result?.backend ?? null);
  const notes = useStudio((s) => s.result?.notes ?? null);
  const result = useStudio((s) => s.result);
  const overlap = useMemo(() => (result === null ? null : sameObjectOverlap(result)), [result]);
  const progress = useStudio((s) => s.analyzeProgress);
  const cancel = useStudio((s) => s.cancelAnalysis);
  const methodInfo = useStudio((s) => s.model?.methods ?? null);
  const running = useStudio((s) => s.runningRequest);
  const methodTitle = progress ? titleOf(progress.method, methodInfo) : null;
  const methodCount = running?.methods.length ?? 0;
  const methodIndex = progress && running ? running.methods.indexOf(progress.method) : -1;
  const timeLeft = useTimeLeft(progress ? `${progress.jobId}:${progress.method}` : null, progress?.done ?? 0, progress?.total ?? 0);
  const slowChosen = (running?.methods ?? []).filter((id) => isSlowMethod(id)).map((id) => titleOf(id, methodInfo));
  return (
    <section className="results" data-testid="results" data-state={status} aria-busy={status === 'busy'} aria-labelledby="results-title">
      <div className="results-head">
        <h2 id="results-title">Explanations</h2>
        <div className="results-status" aria-live="polite">
          {status === 'busy' && (
            <span className="computing" data-testid="computing">
              <span className="spinner" aria-hidden="true" />
              {progress && progress.total > 0 ? (
                <span data-testid="analysis-progress" data-method={progress.method}>
                  Running <strong>{methodTitle}</strong>
                  {methodIndex >= 0 && methodCount > 1 ? ` (method ${methodIndex + 1} of ${methodCount})` : ''}:{' '}
                  {formatCount(progress.done)}/{formatCount(progress.total)}
                  {timeLeft !== null && <span className="muted"> · {timeLeft}</span>}
                </span>
              ) : (
                <span>Computing…{slowChosen.length > 0 ? ` (${slowChosen.join(', ')} will report progress)` : ''}</span>
              )}
              {progress && progress.total > 0 && (
                <progress max={progress.total} value={progress.done} aria-label={`${methodTitle ?? 'method'} progress`} />
              )}
              <button type="button" className="button small" onClick={() => void cancel()} data-testid="cancel-analysis">
                Cancel
              </button>
            </span>
          )}
          {status === 'done' && timings && (
            <span className="muted small" data-testid="timings">
              {formatDuration(timings.total)} on {backend}
              {reused ? ' (forward pass reused)' : ` (forward ${formatDuration(timings.forward)})`}
            </span>
          )}
          {status === 'error' && <span className="error-text">The last analysis failed: see the message above.</span>}
        </div>
      </div>
      {!hasImage && status === 'idle' && (
        <div className="empty">
          <p>Choose, drop or paste a photo, or click a sample, to see what the model predicts and where it looks.</p>
        </div>
      )}
      {notes !== null && notes.length > 0 && (
        <ul className="result-notes hint" data-testid="result-notes">
          {notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      {overlap !== null && (
        <p className="hint warning-note" data-testid="same-object-note" role="note">
          The detected labels&apos; CAMs overlap almost entirely (mean correlation {overlap.toFixed(2)}): they most likely name one object.
          MinMax-CAM contrasts each label with the others, so it removes what they share (the object itself) and keeps what tells them
          apart. To see the object, read CAM or Grad-CAM; to separate objects, set the detected set to labels of different objects
          (Analysis, detected set, or tick fewer labels).
        </p>
      )}
      <div className={`results-body${status === 'busy' ? ' stale' : ''}`}>
        <HeatmapGrid />
      </div>
    </section>
  );
}
