import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { snapshotState, type StudioSnapshot } from './state/snapshot';
import { StudioProvider } from './state/react';
import { createStudioStore } from './state/store';
import type { StudioStore } from './state/types';
import { indexedDbBatchJournal } from './state/batch-journal';
import { App } from './ui/App';
import { createEngineClient } from './client/engine-client';
import { ErrorBoundary } from './ui/ErrorBoundary';
import type { EngineMemory, ModelInputPixels } from './shared/protocol';
import './ui/styles.css';

declare global {
  interface Window {
    /** For the e2e tests and the console: a plain snapshot of the studio's state. */
    __camStudio?: {
      getState: () => StudioSnapshot;
      store: StudioStore;
      engineMemory: () => Promise<EngineMemory>;
      /** The current image's model input, RGB bytes (the studio/CLI parity test). */
      modelInput: () => Promise<ModelInputPixels>;
      simulateEngineCrash: () => void;
      simulateDeviceLoss: () => Promise<void>;
    };
  }
}

const engine = createEngineClient();
const store = createStudioStore({
  engine,
  fetch: (url) => fetch(url),
  baseUrl: document.baseURI,
  search: window.location.search,
  onEngineRestart: (listener) => engine.onRestart(listener),
  ...storageOrNothing(),
  ...(typeof indexedDB === 'undefined' ? {} : { batchJournal: indexedDbBatchJournal() }),
});

/** localStorage, unless the browser blocks it (then settings simply do not persist). */
function storageOrNothing(): { storage?: Storage } {
  try {
    return { storage: window.localStorage };
  } catch {
    return {};
  }
}

window.__camStudio = {
  getState: () => snapshotState(store.getState()),
  store,
  // The worker's tf.memory(): the e2e tests check that repeated analyses leave no tensors behind.
  engineMemory: () => engine.memory(),
  modelInput: () => engine.modelInput(),
  // Kills the worker as a crash would: the recovery test uses it (and anyone curious can try it).
  simulateEngineCrash: () => engine.simulateCrash(),
  // Destroys the worker's WebGPU device as a driver reset would (the device-loss test).
  simulateDeviceLoss: () => engine.simulateDeviceLoss(),
};

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <StudioProvider store={store}>
        <App />
      </StudioProvider>
    </ErrorBoundary>
  </StrictMode>,
);

void store.getState().start();
