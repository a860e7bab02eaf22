import { useId, type ChangeEvent } from 'react';
import { MODEL_FORMAT_TEXT } from '../shared/model-metadata';
import { useStudio } from '../state/react';
import { PreprocessingField } from './PreprocessingField';

const ACTIVATION_TEXT = { softmax: 'softmax', sigmoid: 'sigmoid (multi-label)', linear: 'none (linear logits)' } as const;
const HEAD_TEXT = { 'gap-dense': 'global average pooling → dense', generic: 'generic (layers after the target)' } as const;

function shapeText(shape: readonly number[]): string {
  return shape.join(' × ');
}

/** What the loaded model is, and the two choices that change its explanations. */
export function ModelDetails() {
  const model = useStudio((s) => s.model);
  const configuring = useStudio((s) => s.configuring);
  const configureModel = useStudio((s) => s.configureModel);
  const layerId = useId();
  if (!model) {
    return (
      <section className="panel" aria-labelledby="model-details-title">
        <h2 id="model-details-title">Model</h2>
        <p className="muted">No model loaded yet.</p>
      </section>
    );
  }
  const onLayer = (event: ChangeEvent<HTMLSelectElement>): void => void configureModel({ targetLayer: event.target.value });
  const candidates = model.targetLayerCandidates.some((c) => c.name === model.targetLayer)
    ? model.targetLayerCandidates
    : [{ name: model.targetLayer, shape: [] as number[] }, ...model.targetLayerCandidates];
  return (
    <section className="panel" aria-labelledby="model-details-title" data-testid="model-details">
      <h2 id="model-details-title">Model</h2>
      <dl className="facts">
        <dt>Name</dt>
        <dd>{model.name}</dd>
        <dt>Format</dt>
        <dd data-testid="model-format">{MODEL_FORMAT_TEXT[model.format]}</dd>
        <dt>Input</dt>
        <dd data-testid="model-input-shape">{shapeText(model.inputShape)}</dd>
        <dt>Classes</dt>
        <dd>
          {model.numClasses.toLocaleString()} <span className="muted">({model.labelsSource})</span>
        </dd>
        <dt>Parameters</dt>
        <dd>{model.numParameters.toLocaleString()}</dd>
        <dt>Head</dt>
        <dd>
          {HEAD_TEXT[model.headKind]}, {ACTIVATION_TEXT[model.headActivation]}
        </dd>
      </dl>
      <label className="field" htmlFor={layerId}>
        <span className="field-label">Target layer</span>
        <select id={layerId} data-testid="target-layer-select" value={model.targetLayer} onChange={onLayer} disabled={configuring}>
          {candidates.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
              {c.shape.length > 0 ? ` (${shapeText(c.shape)})` : ''}
            </option>
          ))}
        </select>
      </label>
      <PreprocessingField model={model} testId="preprocessing-select" />
      <h3>Methods</h3>
      <p className="small">
        {model.methods.filter((m) => m.available).length} of {model.methods.length} available for this model.
      </p>
      {model.methods.some((m) => !m.available) && (
        <ul className="plain small">
          {model.methods
            .filter((m) => !m.available)
            .map((m) => (
              <li key={m.id}>
                <span className="muted">✗</span> {m.title}
                {m.reason ? <span className="muted"> — {m.reason}</span> : null}
              </li>
            ))}
        </ul>
      )}
      {model.notes.length > 0 && (
        <>
          <h3>Notes</h3>
          <ul className="notes" data-testid="model-notes">
            {model.notes.map((note, i) => (
              <li key={i}>{note}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
