import { DetectionEditor } from './DetectionEditor';
import { MethodOptionsPanel } from './MethodOptionsPanel';

/** What is explained and how: the detected-set rule and the slow methods' parameters. */
export function AnalysisControls() {
  return (
    <section className="panel" aria-labelledby="analysis-title" data-testid="analysis-controls">
      <h2 id="analysis-title">Analysis</h2>
      <DetectionEditor />
      <MethodOptionsPanel />
    </section>
  );
}
