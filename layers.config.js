// @ts-check
/**
 * Where code runs, and what it may import: one rule about folders under src/, read by ESLint (the
 * boundaries rule, eslint.config.js) and by src/architecture.test.ts. A folder may import itself and the
 * folders it lists, nothing else (types included). Tests (`*.test.ts`) and src/testing/ may import anything.
 *
 * The UI thread (ui, state, charts, figure, client) imports only shared/ and each other; core/ imports only
 * shared/; worker/ never imports the UI side.
 */

/** @type {Readonly<Record<string, readonly string[]>>} */
export const LAYERS = {
  // Facts every thread needs: TF-free, DOM-free.
  shared: [],
  // Pure TF.js math: methods, metrics, model surgery, kernels.
  core: ['shared'],
  // The engine worker: owns models, backends and tensors.
  worker: ['core', 'shared'],
  // The UI thread's bridge to the worker.
  client: ['shared'],
  // The store: state and actions; the engine reaches it injected.
  state: ['figure', 'shared'],
  // d3 charts: everything they show comes in as props.
  charts: ['shared'],
  // Figure layout, cells and SVG, shared by the studio and `npm run figure`.
  figure: ['shared'],
  // React components (and main.tsx, the page's entry).
  ui: ['state', 'charts', 'figure', 'client', 'shared'],
  // Node-side I/O for the command line and the tests: files, images, the wasm backend.
  node: ['core', 'shared'],
  // The command line.
  cli: ['node', 'core', 'figure', 'shared'],
  // The synthetic shapes dataset.
  data: ['shared'],
  // Training the shapes models.
  train: ['data', 'node', 'core', 'shared'],
};

/** The layer of a path relative to src/ (`ui/App.tsx` -> ui; `main.tsx` is the UI's entry); null: none. */
export function layerOf(/** @type {string} */ path) {
  if (path === 'main.tsx') return 'ui';
  const folder = path.split('/')[0] ?? '';
  return folder in LAYERS ? folder : null;
}
