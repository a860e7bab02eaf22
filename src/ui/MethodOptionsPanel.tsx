import { useId, type ChangeEvent, type InputHTMLAttributes } from 'react';
import {
  DEFAULT_METHOD_OPTIONS,
  SCORECAM_VARIANTS,
  SCORECAM_VARIANT_TITLES,
  parseIntegerField,
  parseMaxChannels,
  parseNumberField,
  type MethodOptionsPatch,
  type ScoreCamVariant,
} from '../shared/options';
import { useStudio } from '../state/react';
import { useCommittedInput } from './useCommittedInput';

interface OptionFieldProps {
  label: string;
  hint?: string;
  testId: string;
  value: string;
  /** Turns the typed text into a patch, or says why it cannot. */
  parse: (text: string) => { patch: MethodOptionsPatch } | { error: string };
  input: InputHTMLAttributes<HTMLInputElement>;
}

function OptionField({ label, hint, testId, value, parse, input }: OptionFieldProps) {
  const setMethodOptions = useStudio((s) => s.setMethodOptions);
  const id = useId();
  const hintId = useId();
  const errorId = useId();
  const field = useCommittedInput(value, (text) => {
    const parsed = parse(text);
    if ('error' in parsed) return parsed.error;
    void setMethodOptions(parsed.patch);
    return null;
  });
  const describedBy = [hint ? hintId : null, field.error !== null ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field compact option-field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        data-testid={testId}
        {...input}
        value={field.value}
        onChange={field.onChange}
        onBlur={field.onBlur}
        onKeyDown={field.onKeyDown}
        aria-invalid={field.error !== null}
        aria-describedby={describedBy}
      />
      {hint && (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      )}
      {field.error !== null && (
        <span className="error-text small" id={errorId} role="alert">
          {field.error}
        </span>
      )}
    </div>
  );
}

const integer = (min: number, max: number): InputHTMLAttributes<HTMLInputElement> => ({ type: 'number', min, max, step: 1, inputMode: 'numeric' });

function isVariant(value: string): value is ScoreCamVariant {
  return (SCORECAM_VARIANTS as readonly string[]).includes(value);
}

/** Parameters of the slow methods; collapsed by default. Changes re-run only the analyses that use them. */
export function MethodOptionsPanel() {
  const options = useStudio((s) => s.methodOptions);
  const setMethodOptions = useStudio((s) => s.setMethodOptions);
  const resetMethodOptions = useStudio((s) => s.resetMethodOptions);
  const variantId = useId();
  const isDefault = JSON.stringify(options) === JSON.stringify(DEFAULT_METHOD_OPTIONS);
  const onVariant = (event: ChangeEvent<HTMLSelectElement>): void => {
    if (isVariant(event.target.value)) void setMethodOptions({ scorecam: { variant: event.target.value } });
  };
  const int = (min: number, max: number, what: string, make: (value: number) => MethodOptionsPatch) => (text: string) => {
    const parsed = parseIntegerField(text, min, max, what);
    return 'error' in parsed ? parsed : { patch: make(parsed.value) };
  };
  return (
    <details className="method-options" data-testid="method-options">
      <summary>
        Method options{isDefault ? '' : <span className="muted small"> (changed)</span>}
      </summary>
      <fieldset className="option-group">
        <legend>Score-CAM</legend>
        <div className="field compact option-field">
          <label className="field-label" htmlFor={variantId}>
            Score
          </label>
          <select id={variantId} data-testid="option-scorecam-variant" value={options.scorecam.variant} onChange={onVariant}>
            {SCORECAM_VARIANTS.map((variant) => (
              <option key={variant} value={variant}>
                {SCORECAM_VARIANT_TITLES[variant]}
              </option>
            ))}
          </select>
        </div>
        <OptionField
          label="Batch size (masked inputs per pass)"
          testId="option-scorecam-batch-size"
          value={String(options.scorecam.batchSize)}
          input={integer(1, 1024)}
          parse={int(1, 1024, 'The batch size', (batchSize) => ({ scorecam: { batchSize } }))}
        />
        <OptionField
          label="Max channels"
          hint="Keep the channels of largest variance (Faster-Score-CAM). Empty = all channels."
          testId="option-scorecam-max-channels"
          value={options.scorecam.maxChannels === null ? '' : String(options.scorecam.maxChannels)}
          input={{ type: 'number', min: 1, step: 1, inputMode: 'numeric', placeholder: 'all' }}
          parse={(text) => {
            const parsed = parseMaxChannels(text);
            return 'error' in parsed ? parsed : { patch: { scorecam: { maxChannels: parsed.value } } };
          }}
        />
      </fieldset>
      <fieldset className="option-group">
        <legend>Ablation-CAM</legend>
        <OptionField
          label="Batch size (ablated channels per pass)"
          testId="option-ablation-batch-size"
          value={String(options.ablation.batchSize)}
          input={integer(1, 1024)}
          parse={int(1, 1024, 'The batch size', (batchSize) => ({ ablation: { batchSize } }))}
        />
      </fieldset>
      <fieldset className="option-group">
        <legend>SmoothGrad</legend>
        <OptionField
          label="Samples"
          testId="option-smoothgrad-samples"
          value={String(options.smoothgrad.samples)}
          input={integer(1, 1000)}
          parse={int(1, 1000, 'The number of samples', (samples) => ({ smoothgrad: { samples } }))}
        />
        <OptionField
          label="Noise level (σ, as a fraction of the input range)"
          testId="option-smoothgrad-noise"
          value={String(options.smoothgrad.noiseLevel)}
          input={{ type: 'number', min: 0, max: 1, step: 0.05, inputMode: 'decimal' }}
          parse={(text) => {
            const parsed = parseNumberField(text, 0, 1, 'The noise level');
            return 'error' in parsed ? parsed : { patch: { smoothgrad: { noiseLevel: parsed.value } } };
          }}
        />
        <OptionField
          label="Seed"
          testId="option-smoothgrad-seed"
          value={String(options.smoothgrad.seed)}
          input={integer(0, 2 ** 31 - 1)}
          parse={int(0, 2 ** 31 - 1, 'The seed', (seed) => ({ smoothgrad: { seed } }))}
        />
      </fieldset>
      <fieldset className="option-group">
        <legend>Integrated Gradients</legend>
        <OptionField
          label="Steps"
          testId="option-ig-steps"
          value={String(options.integratedGradients.steps)}
          input={integer(1, 1000)}
          parse={int(1, 1000, 'The number of steps', (steps) => ({ integratedGradients: { steps } }))}
        />
        <OptionField
          label="Batch size (steps per pass)"
          testId="option-ig-batch-size"
          value={String(options.integratedGradients.batchSize)}
          input={integer(1, 1024)}
          parse={int(1, 1024, 'The batch size', (batchSize) => ({ integratedGradients: { batchSize } }))}
        />
      </fieldset>
      <button type="button" className="button small" data-testid="options-reset" disabled={isDefault} onClick={() => void resetMethodOptions()}>
        Reset to defaults
      </button>
    </details>
  );
}
