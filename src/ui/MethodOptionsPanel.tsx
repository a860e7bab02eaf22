import { useId, type ChangeEvent, type InputHTMLAttributes } from 'react';
import { METHOD_DESCRIPTORS } from '../shared/methods';
import {
  DEFAULT_METHOD_OPTIONS,
  OPTION_FAMILIES,
  optionFields,
  parseOptionText,
  type MethodOptionsPatch,
  type OptionFamily,
  type OptionField,
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

/** The input attributes of a numeric field (its range, for the browser's own hints). */
function inputOf(field: OptionField): InputHTMLAttributes<HTMLInputElement> {
  switch (field.kind) {
    case 'integer':
      return { type: 'number', min: field.min, max: field.max, step: 1, inputMode: 'numeric' };
    case 'cap':
      return { type: 'number', min: field.min, step: 1, inputMode: 'numeric', placeholder: 'all' };
    case 'number':
      return { type: 'number', min: field.min, max: field.max, step: 0.05, inputMode: 'decimal' };
    case 'choice':
      return {};
  }
}

/** The title of an option family: that of the method which reads it (src/shared/methods.ts). */
function familyTitle(family: OptionFamily): string {
  return METHOD_DESCRIPTORS.find((method) => 'options' in method && method.options === family)?.title ?? family;
}

function ChoiceOption({ family, name, field, value }: { family: OptionFamily; name: string; field: OptionField; value: string }) {
  const setMethodOptions = useStudio((s) => s.setMethodOptions);
  const id = useId();
  const onChange = (event: ChangeEvent<HTMLSelectElement>): void => {
    const parsed = parseOptionText(field, event.target.value);
    if (!('error' in parsed)) void setMethodOptions({ [family]: { [name]: parsed.value } } as MethodOptionsPatch);
  };
  return (
    <div className="field compact option-field">
      <label className="field-label" htmlFor={id}>
        {field.title}
      </label>
      <select id={id} data-testid={`option-${field.flag}`} value={value} onChange={onChange}>
        {(field.kind === 'choice' ? field.values : []).map((choice) => (
          <option key={choice} value={choice}>
            {field.choices?.[choice] ?? choice}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * Parameters of the slow methods, one group per option family, every field from its schema in
 * src/shared/options.ts (a new option family appears here without code of its own); collapsed by default.
 * Changes re-run only the analyses that use them.
 */
export function MethodOptionsPanel() {
  const options = useStudio((s) => s.methodOptions);
  const resetMethodOptions = useStudio((s) => s.resetMethodOptions);
  const isDefault = JSON.stringify(options) === JSON.stringify(DEFAULT_METHOD_OPTIONS);
  return (
    <details className="method-options" data-testid="method-options">
      <summary>Method options{isDefault ? '' : <span className="muted small"> (changed)</span>}</summary>
      {OPTION_FAMILIES.map((family) => (
        <fieldset className="option-group" key={family}>
          <legend>{familyTitle(family)}</legend>
          {optionFields(family).map(([name, field]) => {
            const value = (options[family] as Record<string, unknown>)[name];
            if (field.kind === 'choice') return <ChoiceOption key={name} family={family} name={name} field={field} value={String(value)} />;
            return (
              <OptionField
                key={name}
                label={field.title}
                {...(field.hint === undefined ? {} : { hint: field.hint })}
                testId={`option-${field.flag}`}
                value={value === null ? '' : String(value)}
                input={inputOf(field)}
                parse={(text) => {
                  const parsed = parseOptionText(field, text);
                  return 'error' in parsed ? parsed : { patch: { [family]: { [name]: parsed.value } } as MethodOptionsPatch };
                }}
              />
            );
          })}
        </fieldset>
      ))}
      <button
        type="button"
        className="button small"
        data-testid="options-reset"
        disabled={isDefault}
        onClick={() => void resetMethodOptions()}
      >
        Reset to defaults
      </button>
    </details>
  );
}
