import type { ChangeEvent } from 'react';
import { useStudio } from '../state/react';
import type { WhileBusy } from '../state/constants';
import { DetectionEditor } from './DetectionEditor';
import { MetaControls } from './MetaControls';
import { MethodOptionsPanel } from './MethodOptionsPanel';

/** What is explained and how: the detected-set rule, the slow methods' parameters, the meta-methods. */
export function AnalysisControls() {
  const whileBusy = useStudio((s) => s.whileBusy);
  const setWhileBusy = useStudio((s) => s.setWhileBusy);
  const onWhileBusy = (event: ChangeEvent<HTMLSelectElement>): void => setWhileBusy(event.target.value as WhileBusy);
  return (
    <section className="panel" aria-labelledby="analysis-title" data-testid="analysis-controls">
      <h2 id="analysis-title">Analysis</h2>
      <DetectionEditor />
      <MethodOptionsPanel />
      <MetaControls />
      <label className="field">
        <span className="field-label">A new image during a long analysis</span>
        <select value={whileBusy} onChange={onWhileBusy} data-testid="while-busy-select">
          <option value="supersede">replaces it (the analysis stops)</option>
          <option value="queue">waits for it (shown when it ends)</option>
        </select>
      </label>
    </section>
  );
}
