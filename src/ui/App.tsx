import { AnalysisControls } from './AnalysisControls';
import { BackendBadge } from './BackendBadge';
import { ErrorBanner } from './ErrorBanner';
import { ImagePanel } from './ImagePanel';
import { ModelDetails } from './ModelDetails';
import { ModelPicker } from './ModelPicker';
import { ModelSetup } from './ModelSetup';
import { BatchPanel } from './BatchPanel';
import { MetricsPanel } from './MetricsPanel';
import { InspectorPanel } from './InspectorPanel';
import { Filmstrip } from './Filmstrip';
import { ModelStatus } from './ModelStatus';
import { PageDrop } from './PageDrop';
import { Results } from './Results';
import { Predictions } from './Predictions';
import { ViewControls } from './ViewControls';
import { Classroom } from './Classroom';
import { FigureBuilder } from './FigureBuilder';
import { ModeTabs } from './ModeTabs';
import { useStudio } from '../state/react';

export function App() {
  const mode = useStudio((s) => s.mode);
  return (
    <div className="app">
      <a className="skip-link" href="#results-title">
        Skip to the results
      </a>
      <header className="app-header">
        <div className="brand">
          <h1>CAM Studio</h1>
          <p className="tagline">
            Where does the classifier look? CAM, Grad-CAM, MinMax-CAM, Score-CAM and input saliency, computed in your browser.
          </p>
        </div>
        <ModelPicker />
        <BackendBadge />
      </header>
      <div className="nav-row">
        <ModeTabs />
        <ModelStatus />
      </div>
      <ErrorBanner />
      {mode === 'classroom' && (
        <main className="layout-wide" id="mode-panel-classroom" role="tabpanel" aria-labelledby="mode-tab-classroom">
          <Classroom />
        </main>
      )}
      {mode === 'figure' && (
        <main className="layout-wide" id="mode-panel-figure" role="tabpanel" aria-labelledby="mode-tab-figure">
          <FigureBuilder />
        </main>
      )}
      <main className="layout" id="mode-panel-explore" role="tabpanel" aria-labelledby="mode-tab-explore" hidden={mode !== 'explore'}>
        <aside className="sidebar">
          <ModelSetup />
          <ImagePanel />
          <Predictions />
          <AnalysisControls />
          <ViewControls />
          <ModelDetails />
        </aside>
        <div className="main-column">
          <Results />
          <Filmstrip />
          <InspectorPanel />
          <MetricsPanel />
          <BatchPanel />
        </div>
      </main>
      <PageDrop />
    </div>
  );
}
