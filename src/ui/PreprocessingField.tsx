import { useId, type ChangeEvent } from 'react';
import { PREPROCESSING_DESCRIPTIONS, PREPROCESSING_IDS, type PreprocessingId } from '../shared/model-metadata';
import type { ModelSummary } from '../shared/protocol';
import { useStudio } from '../state/react';

const SOURCE_TEXT = { metadata: 'from metadata.json', user: 'your choice', default: 'default guess' } as const;

/** How the model's inputs are prepared: a select over the preprocessing ids, with where the current one came from. */
export function PreprocessingField({ model, testId }: { model: ModelSummary; testId: string }) {
  const configuring = useStudio((s) => s.configuring);
  const configureModel = useStudio((s) => s.configureModel);
  const id = useId();
  const onChange = (event: ChangeEvent<HTMLSelectElement>): void =>
    void configureModel({ preprocessing: event.target.value as PreprocessingId });
  return (
    <label className="field" htmlFor={id}>
      <span className="field-label">
        Preprocessing <span className="muted">({SOURCE_TEXT[model.preprocessingSource]})</span>
      </span>
      <select id={id} data-testid={testId} value={model.preprocessing} onChange={onChange} disabled={configuring}>
        {PREPROCESSING_IDS.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
      <span className="hint">{PREPROCESSING_DESCRIPTIONS[model.preprocessing]}</span>
    </label>
  );
}
