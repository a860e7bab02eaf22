import { useStudio } from '../state/react';
import { explainedLabels } from '../state/store';
import type { Prediction } from '../worker/protocol';

function percent(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p >= 0.001) return `${(p * 100).toFixed(1)}%`;
  return `${(p * 100).toExponential(1)}%`;
}

/** Top-k predictions with a probability bar; the checkboxes choose which labels are explained. */
export function Predictions() {
  const result = useStudio((s) => s.result);
  const explained = useStudio((s) => explainedLabels(s));
  const toggleLabel = useStudio((s) => s.toggleLabel);
  const activation = useStudio((s) => s.model?.headActivation ?? 'softmax');
  if (!result) return null;
  return (
    <section className="panel predictions" aria-labelledby="predictions-title">
      <h2 id="predictions-title">Predictions</h2>
      <p className="muted small">Tick a label to explain it ({activation === 'sigmoid' ? 'sigmoid' : activation === 'linear' ? 'logit' : 'softmax'} scores).</p>
      <ol className="prediction-list">
        {result.predictions.map((p: Prediction) => {
          const checked = explained.includes(p.label);
          const width = Math.max(0, Math.min(1, activation === 'linear' ? 0 : p.prob)) * 100;
          return (
            <li key={p.label} className={`prediction-row${checked ? ' explained' : ''}`} data-testid="prediction-row" data-label={p.label}>
              <label>
                <input type="checkbox" checked={checked} onChange={() => void toggleLabel(p.label)} aria-label={`Explain ${p.name}`} />
                <span className="prediction-name" title={`class ${p.label}, logit ${p.logit.toFixed(3)}`}>
                  {p.name}
                </span>
                <span className="prediction-prob">{activation === 'linear' ? p.logit.toFixed(2) : percent(p.prob)}</span>
              </label>
              <div className="bar" aria-hidden="true">
                <div className="bar-fill" style={{ width: `${width}%` }} />
              </div>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
