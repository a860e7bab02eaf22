import type { ChangeEvent } from 'react';
import { useStudio } from '../state/react';
import { BACKEND_CHOICES } from '../shared/protocol';
import { isBackendChoice } from '../state/startup';

const CHOICE_TEXT: Record<string, string> = {
  auto: 'Auto (best available)',
  webgpu: 'WebGPU',
  wasm: 'WebAssembly (CPU, SIMD)',
  webgl: 'WebGL',
  cpu: 'Plain JS CPU (slow)',
};

/** Which backend runs, on which adapter, why; and a select to force another. */
export function BackendBadge() {
  const report = useStudio((s) => s.backend);
  const status = useStudio((s) => s.backendStatus);
  const requested = useStudio((s) => s.requestedBackend);
  const setBackend = useStudio((s) => s.setBackend);
  const adapter = report?.adapter ?? null;
  const adapterText = adapter
    ? [adapter.vendor, adapter.architecture, adapter.description].filter((p) => p !== '').join(' · ') +
      (adapter.isFallbackAdapter ? ' (fallback adapter)' : '')
    : 'no WebGPU adapter';
  const onChange = (event: ChangeEvent<HTMLSelectElement>): void => {
    const value = event.target.value;
    if (isBackendChoice(value)) void setBackend(value);
  };
  const busy = status === 'starting' || status === 'switching';
  return (
    <div className="backend">
      <div
        className={`badge backend-badge ${report ? `backend-${report.backend}` : 'backend-none'}`}
        data-testid="backend-badge"
        data-backend={report?.backend ?? ''}
        data-state={status}
        title={report ? `${report.reason}\nAdapter: ${adapterText}` : 'The engine is starting'}
        aria-live="polite"
      >
        <span className="badge-label">Backend</span>{' '}
        <strong className="badge-value">{report ? report.backend : busy ? 'starting…' : 'none'}</strong>
        {status === 'switching' && <span className="badge-note"> switching…</span>}
        {report && <span className="badge-sub">{adapterText}</span>}
        {report && <span className="badge-reason">{report.reason}</span>}
      </div>
      <label className="field compact">
        <span className="field-label visually-hidden">Run on</span>
        <select data-testid="backend-select" value={requested} onChange={onChange} disabled={busy} aria-label="Backend to run the model on">
          {BACKEND_CHOICES.map((choice) => (
            <option key={choice} value={choice}>
              {CHOICE_TEXT[choice] ?? choice}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
