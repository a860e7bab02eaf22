import { useId } from 'react';
import { groupMethods, isSlowMethod, placeholderAvailability } from '../shared/methods';
import { useStudio } from '../state/react';

const NO_REASON = 'not available for this model';

/**
 * The methods, grouped by family and built from the model's list. Methods the model cannot run are shown
 * disabled with the reason written out; slow methods carry a "slow" hint.
 */
export function MethodPicker() {
  const methods = useStudio((s) => s.methods);
  const availability = useStudio((s) => s.model?.methods ?? null);
  const toggleMethod = useStudio((s) => s.toggleMethod);
  const slowNoteId = useId();
  const list = availability ?? placeholderAvailability();
  const groups = groupMethods(list);
  const unavailableCount = list.filter((m) => !m.available).length;
  return (
    <fieldset className="methods" data-testid="methods">
      <legend className="field-label">Methods</legend>
      {unavailableCount > 0 && (
        <p className="hint" data-testid="methods-unavailable-note">
          {unavailableCount} of {list.length} methods cannot run on this model; each says why.
        </p>
      )}
      {groups.map(({ family, methods: members }) => (
        <fieldset key={family.id} className="method-group" data-testid={`method-group-${family.id}`}>
          <legend className="method-group-title" title={family.description}>
            {family.title}
          </legend>
          {members.map((info) => {
            const id = info.id;
            const unavailable = !info.available;
            const reason = info.reason ?? NO_REASON;
            const slow = isSlowMethod(id);
            const reasonId = `${slowNoteId}-${id}-reason`;
            return (
              <div key={id} className={`method-option${unavailable ? ' disabled' : ''}`}>
                <label className={`check${unavailable ? ' disabled' : ''}`}>
                  <input
                    type="checkbox"
                    data-testid={`method-${id}`}
                    checked={methods.includes(id) && !unavailable}
                    disabled={unavailable}
                    onChange={() => void toggleMethod(id)}
                    aria-describedby={[unavailable ? reasonId : null, slow ? slowNoteId : null].filter(Boolean).join(' ') || undefined}
                  />
                  <span className="method-title">{info.title}</span>
                  {slow && (
                    <span className="slow-hint" title="Many forward or backward passes: shows progress and can be cancelled">
                      slow
                    </span>
                  )}
                </label>
                {unavailable && (
                  <p className="method-reason" id={reasonId} data-testid={`method-reason-${id}`}>
                    Not available: {reason}
                  </p>
                )}
              </div>
            );
          })}
        </fieldset>
      ))}
      {list.some((m) => isSlowMethod(m.id)) && (
        <p className="hint" id={slowNoteId}>
          <span className="slow-hint" aria-hidden="true">
            slow
          </span>{' '}
          methods run many forward or backward passes: they report their progress beside the results, and Cancel stops them.
        </p>
      )}
    </fieldset>
  );
}
