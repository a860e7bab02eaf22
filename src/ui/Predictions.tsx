import { formatProbability } from '../shared/format';
import { useStudio } from '../state/react';
import { explainedLabels } from '../state/selectors';
import type { Prediction } from '../shared/protocol';

/** At most this many detected labels are named; the rest are counted. */
const DETECTED_NAMES_SHOWN = 12;

/** Top-k predictions with a probability bar; the checkboxes choose which labels are explained. */
export function Predictions() {
  const labelNames = useStudio((s) => s.model?.labelNames);
  const result = useStudio((s) => s.result);
  const explained = useStudio((s) => explainedLabels(s));
  const toggleLabel = useStudio((s) => s.toggleLabel);
  const activation = useStudio((s) => s.model?.headActivation ?? 'softmax');
  const byHand = useStudio((s) => s.selectedLabels !== 'auto');
  if (!result) return null;
  const names = new Map(result.predictions.map((p) => [p.label, p.name]));
  const detected = result.detected ?? [];
  const shown = detected.slice(0, DETECTED_NAMES_SHOWN);
  return (
    <section className="panel predictions" aria-labelledby="predictions-title">
      <h2 id="predictions-title">Predictions</h2>
      <p className="muted small">
        Tick a label to explain it ({activation === 'sigmoid' ? 'sigmoid' : activation === 'linear' ? 'logit' : 'softmax'} scores).
      </p>
      <ol className="prediction-list">
        {result.predictions.map((p: Prediction) => {
          const checked = explained.includes(p.label);
          const isDetected = detected.includes(p.label);
          const width = Math.max(0, Math.min(1, activation === 'linear' ? 0 : p.prob)) * 100;
          return (
            <li
              key={p.label}
              className={`prediction-row${checked ? ' explained' : ''}${isDetected ? ' detected' : ''}`}
              data-testid="prediction-row"
              data-label={p.label}
              data-detected={isDetected}
            >
              <label>
                <input
                  type="checkbox"
                  checked={checked}
                  onChange={() => void toggleLabel(p.label)}
                  aria-label={`Explain ${p.name}${isDetected ? ' (detected)' : ''}`}
                />
                <span className="prediction-name" title={`class ${p.label}, logit ${p.logit.toFixed(3)}`}>
                  {p.name}
                  {isDetected && (
                    <span className="detected-badge" title="In the detected set C_x">
                      detected
                    </span>
                  )}
                </span>
                <span className="prediction-prob">{activation === 'linear' ? p.logit.toFixed(2) : formatProbability(p.prob)}</span>
              </label>
              <div className="bar" aria-hidden="true">
                <div className="bar-fill" style={{ width: `${width}%` }} />
              </div>
            </li>
          );
        })}
      </ol>
      <div className="detected-set" data-testid="detected-set" data-labels={detected.join(',')}>
        <span className="field-label">Detected set</span>{' '}
        <span className="muted small" data-testid="detection-rule">
          ({result.detectionRule})
        </span>
        {detected.length === 0 ? (
          <p className="small">Empty: no label passes the rule.{byHand ? '' : ' The top prediction is explained instead.'}</p>
        ) : (
          <ul className="detected-list">
            {shown.map((label) => (
              <li key={label}>
                {names.get(label) ?? labelNames?.[label] ?? `class ${label}`} <span className="muted">#{label}</span>
              </li>
            ))}
            {detected.length > shown.length && <li className="muted">and {detected.length - shown.length} more</li>}
          </ul>
        )}
        {byHand && <p className="hint">The explained labels are your choice; MinMax contrasts each with the detected set.</p>}
      </div>
    </section>
  );
}
