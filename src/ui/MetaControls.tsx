import { useId } from 'react';
import { useStudio } from '../state/react';

/** Meta-methods for every chosen method: test-time augmentation and noise smoothing. */
export function MetaControls() {
  const meta = useStudio((s) => s.meta);
  const setMeta = useStudio((s) => s.setMeta);
  const ttaId = useId();
  const smoothId = useId();
  return (
    <fieldset className="field compact" data-testid="meta-controls">
      <legend className="field-label">Meta-methods (every chosen method)</legend>
      <label htmlFor={ttaId} className="check">
        <input
          id={ttaId}
          type="checkbox"
          data-testid="meta-tta"
          checked={meta.tta}
          onChange={(event) => void setMeta({ tta: event.target.checked })}
        />
        Test-time augmentation: horizontal flip x scales 0.5, 1.5, 2 (8 forward passes)
      </label>
      <label htmlFor={smoothId} className="field-label">
        Noise smoothing: noisy copies (0 = off)
      </label>
      <select
        id={smoothId}
        data-testid="meta-smooth"
        value={meta.smoothSamples}
        onChange={(event) => void setMeta({ smoothSamples: Number(event.target.value) })}
      >
        {[0, 4, 8, 16].map((n) => (
          <option key={n} value={n}>
            {n === 0 ? 'off' : `${n} copies`}
          </option>
        ))}
      </select>
      <p className="hint">With either on, maps are averaged at the input's resolution.</p>
    </fieldset>
  );
}
