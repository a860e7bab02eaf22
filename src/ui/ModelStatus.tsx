import { useStudio } from '../state/react';
import { LoadProgressBar } from './ProgressBar';

/** The model's state: loading (with progress), ready (name), or error. */
export function ModelStatus() {
  const model = useStudio((s) => s.model);
  const status = useStudio((s) => s.modelStatus);
  const pending = useStudio((s) => s.pendingModelName);
  const progress = useStudio((s) => s.loadProgress);
  const failed = useStudio((s) => s.modelLoadFailed);
  const configuring = useStudio((s) => s.configuring);
  const sourceName = useStudio((s) => s.modelSourceName);
  const state = status === 'loading' ? 'loading' : model ? 'ready' : status === 'error' ? 'error' : 'loading';
  return (
    <div
      className={`model-status state-${state}`}
      data-testid="model-status"
      data-state={state}
      data-last-load={failed ? 'failed' : 'ok'}
      aria-live="polite"
    >
      {state === 'loading' && (
        <>
          <span>
            Loading model <strong>{pending ?? sourceName ?? ''}</strong>…
          </span>
          <LoadProgressBar progress={progress} />
          {model && <span className="muted">Still using {model.name} until it is ready.</span>}
        </>
      )}
      {state === 'ready' && model && (
        <span>
          Model: <strong>{model.name}</strong>
          {configuring && <span className="muted"> (updating…)</span>}
          {failed && <span className="muted"> (the last load failed; this model is still loaded)</span>}
        </span>
      )}
      {state === 'error' && (
        <span>
          No model loaded
          {sourceName || pending ? (
            <>
              : <strong>{pending ?? sourceName}</strong> failed
            </>
          ) : null}
          . Pick another model or check the error above.
        </span>
      )}
    </div>
  );
}
