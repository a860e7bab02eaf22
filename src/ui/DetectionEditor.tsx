import { useId, useRef, type ChangeEvent } from 'react';
import { parseLabelsFile } from '../shared/metrics/report';
import {
  DETECTION_KINDS,
  DETECTION_KIND_TITLES,
  defaultDetectionRule,
  describeDetectionRule,
  ruleFromText,
  ruleOfKind,
  ruleValueText,
  type DetectionKind,
} from '../shared/detection';
import { useStudio } from '../state/react';
import { effectiveDetection, explainedLabels } from '../state/selectors';
import { useCommittedInput } from './useCommittedInput';

function isDetectionKind(value: string): value is DetectionKind {
  return (DETECTION_KINDS as readonly string[]).includes(value);
}

/** The rule of the detected set C_x: the labels explained by default, and what MinMax contrasts with. */
export function DetectionEditor() {
  const model = useStudio((s) => s.model);
  const detection = useStudio((s) => s.detection);
  const rule = useStudio((s) => effectiveDetection(s));
  const setDetection = useStudio((s) => s.setDetection);
  const reportError = useStudio((s) => s.reportError);
  const selectedLabels = useStudio((s) => s.selectedLabels);
  const setSelectedLabels = useStudio((s) => s.setSelectedLabels);
  const explained = useStudio((s) => explainedLabels(s));
  const predictions = useStudio((s) => s.result?.predictions ?? null);
  const detected = useStudio((s) => s.result?.detected ?? null);
  const selectId = useId();
  const valueId = useId();
  const hintId = useId();
  const errorId = useId();
  const numClasses = model?.numClasses ?? 1000;
  const headDefault = defaultDetectionRule(model?.headActivation ?? 'softmax');

  const onKind = (event: ChangeEvent<HTMLSelectElement>): void => {
    const kind = event.target.value;
    if (!isDetectionKind(kind)) return;
    const seed = detected && detected.length > 0 ? detected : explained;
    void setDetection(ruleOfKind(kind, rule, seed));
  };
  const field = useCommittedInput(ruleValueText(rule), (text) => {
    const parsed = ruleFromText(rule.kind, text, numClasses);
    if ('error' in parsed) return parsed.error;
    void setDetection(parsed.rule);
    return null;
  });
  const groundTruth = rule.kind === 'ground-truth' ? rule.labels : null;
  const labelsFileRef = useRef<HTMLInputElement | null>(null);
  // A labels file (the folder evaluation's format: class names or indices, JSON list or one per line)
  // makes its labels the ground truth of this image.
  const onLabelsFile = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file === undefined || !model) return;
    try {
      const labels = parseLabelsFile(await file.text(), model.labelNames);
      if (labels.length === 0) throw new Error(`${file.name} names no label.`);
      await setDetection({ kind: 'ground-truth', labels });
    } catch (error) {
      reportError(error, `Reading the labels file ${file.name}`);
    }
  };
  const toggleTruth = (label: number): void => {
    if (!groundTruth) return;
    const next = groundTruth.includes(label) ? groundTruth.filter((l) => l !== label) : [...groundTruth, label];
    if (next.length > 0) void setDetection({ kind: 'ground-truth', labels: next });
  };
  const valueLabel = rule.kind === 'top-k' ? 'k' : rule.kind === 'ground-truth' ? 'Class indices (comma-separated)' : 'Threshold';
  const numberProps =
    rule.kind === 'top-k'
      ? { type: 'number', min: 1, max: numClasses, step: 1, inputMode: 'numeric' as const }
      : rule.kind === 'ground-truth'
        ? { type: 'text', inputMode: 'numeric' as const, placeholder: 'e.g. 281, 285', autoComplete: 'off', spellCheck: false }
        : { type: 'number', min: 0, max: 1, step: 0.05, inputMode: 'decimal' as const };

  return (
    <fieldset className="detection" data-testid="detection-editor" disabled={!model}>
      <legend className="field-label">Detected set</legend>
      <p className="hint" id={hintId}>
        The labels the image is taken to contain: explained when you have not ticked labels yourself, and what MinMax contrasts each label
        with. Default for this model: {describeDetectionRule(headDefault)}.
      </p>
      <div className="detection-row">
        <label className="field compact" htmlFor={selectId}>
          <span className="field-label">Rule</span>
          <select id={selectId} data-testid="detection-rule-select" value={rule.kind} onChange={onKind} aria-describedby={hintId}>
            {DETECTION_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {DETECTION_KIND_TITLES[kind]}
              </option>
            ))}
          </select>
        </label>
        <label className="field compact detection-value" htmlFor={valueId}>
          <span className="field-label">{valueLabel}</span>
          <input
            key={rule.kind}
            id={valueId}
            data-testid="detection-value-input"
            {...numberProps}
            value={field.value}
            onChange={field.onChange}
            onBlur={field.onBlur}
            onKeyDown={field.onKeyDown}
            aria-invalid={field.error !== null}
            aria-describedby={field.error !== null ? errorId : undefined}
          />
        </label>
      </div>
      {field.error !== null && (
        <p className="error-text small" id={errorId} role="alert">
          {field.error}
        </p>
      )}
      {groundTruth && predictions && predictions.length > 0 && (
        <div className="truth-picker" role="group" aria-label="Pick ground-truth labels from the predictions">
          <span className="field-label">Pick from the predictions</span>
          <div className="chips">
            {predictions.map((p) => {
              const on = groundTruth.includes(p.label);
              return (
                <button
                  key={p.label}
                  type="button"
                  className={`chip${on ? ' on' : ''}`}
                  aria-pressed={on}
                  data-testid={`truth-chip-${p.label}`}
                  disabled={on && groundTruth.length === 1}
                  onClick={() => toggleTruth(p.label)}
                >
                  {p.name} <span className="muted">#{p.label}</span>
                </button>
              );
            })}
          </div>
        </div>
      )}
      <div className="row detection-actions">
        <button
          type="button"
          className="button small"
          onClick={() => labelsFileRef.current?.click()}
          title="A .json list or a .txt with one class name or index per line"
        >
          Load ground-truth labels…
        </button>
        <input
          ref={labelsFileRef}
          type="file"
          accept=".json,.txt,application/json,text/plain"
          hidden
          onChange={(e) => void onLabelsFile(e)}
          data-testid="labels-file-input"
        />
        {detection !== null && (
          <button type="button" className="button small" data-testid="detection-reset" onClick={() => void setDetection(null)}>
            Use the default ({describeDetectionRule(headDefault)})
          </button>
        )}
        {selectedLabels !== 'auto' && (
          <button type="button" className="button small" data-testid="explain-detected" onClick={() => void setSelectedLabels('auto')}>
            Explain the detected set
          </button>
        )}
      </div>
      {selectedLabels !== 'auto' && (
        <p className="hint" data-testid="labels-by-hand-note">
          You ticked the explained labels yourself: they stay when the rule changes (MinMax still uses the new detected set).
        </p>
      )}
    </fieldset>
  );
}
