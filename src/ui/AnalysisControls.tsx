import { DetectionEditor } from './DetectionEditor';
import { MetaControls } from './MetaControls';
import { MethodOptionsPanel } from './MethodOptionsPanel';

/** What is explained and how: the detected-set rule, the slow methods' parameters, the meta-methods. */
export function AnalysisControls() {
  return (
    <section className="panel" aria-labelledby="analysis-title" data-testid="analysis-controls">
      <h2 id="analysis-title">Analysis</h2>
      <DetectionEditor />
      <MethodOptionsPanel />
      <MetaControls />
    </section>
  );
}
