/**
 * A long session (issue #7): 200 explanations of varying images, methods and labels, and 5 model switches,
 * in the browser. The engine's tensors and bytes return to their baseline, and the page's heap (after a
 * forced garbage collection) does not grow beyond a small allowance; the numbers are reported as annotations.
 */
import { expect, test } from '@playwright/test';
import { openStudio, waitForModel } from './helpers';

const MODELS = ['models/shapes-resnet/model.json', 'models/shapes-resnet-kur/model.json'];
const METHOD_SETS = [
  ['cam'],
  ['gradcam', 'minmax-cam'],
  ['cam', 'd-minmax-cam', 'layercam'],
  ['xgradcam', 'hirescam'],
  ['gradcampp', 'eigencam'],
];

type Handle = {
  __camStudio: {
    store: {
      getState(): Record<string, unknown> & {
        setImage(blob: Blob, name: string): Promise<void>;
        setMethods(m: string[]): Promise<void>;
        setSelectedLabels(l: number[] | 'auto'): Promise<void>;
        loadModelFromUrl(url: string, name?: string): Promise<void>;
        analysisStatus: string;
        lastError: unknown;
        result: { predictions: Array<{ label: number }> } | null;
      };
    };
    engineMemory(): Promise<{ numTensors: number; numBytes: number }>;
  };
};

test('soak: 200 explanations and 5 model switches leave no tensors, bytes or heap behind', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  await openStudio(page, { model: MODELS[0]!, backend: 'wasm' });
  await waitForModel(page, 'Shapes ResNet');
  const cdp = await page.context().newCDPSession(page);
  const heap = async (): Promise<number> => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  /** One explanation: image i, a method set and a label choice; resolves when the analysis is done. */
  const explain = (i: number) =>
    page.evaluate(
      async ({ i, methodSets }) => {
        const { store } = (window as unknown as Handle).__camStudio;
        const blob = await (await fetch(`samples/shapes/scene-${String(i % 16).padStart(2, '0')}.png`)).blob();
        await store.getState().setMethods(methodSets[i % methodSets.length]!);
        await store.getState().setImage(blob, `scene ${i}`);
        const top =
          store
            .getState()
            .result?.predictions.slice(0, 1 + (i % 3))
            .map((p) => p.label) ?? [];
        if (i % 2 === 1) await store.getState().setSelectedLabels(top);
        const state = store.getState();
        if (state.analysisStatus !== 'done' || state.lastError !== null)
          throw new Error(`explanation ${i}: ${state.analysisStatus} ${JSON.stringify(state.lastError)}`);
      },
      { i, methodSets: METHOD_SETS },
    );
  const switchModel = (url: string) =>
    page.evaluate(async (u) => {
      await (window as unknown as Handle).__camStudio.store.getState().loadModelFromUrl(u);
    }, url);
  const memory = () => page.evaluate(() => (window as unknown as Handle).__camStudio.engineMemory());

  await explain(0);
  const baseline = { ...(await memory()), heap: await heap() };
  let switches = 0;
  for (let i = 1; i <= 200; i += 1) {
    if (i % 40 === 0) {
      switches += 1;
      await switchModel(MODELS[switches % 2]!);
    }
    await explain(i);
  }
  if (switches % 2 === 1) {
    // end on the baseline's model
    switches += 1;
    await switchModel(MODELS[0]!);
  }
  await explain(0);
  const end = { ...(await memory()), heap: await heap() };
  const summary = `201 explanations, ${switches} model switches: tensors ${baseline.numTensors} -> ${end.numTensors}, engine bytes ${baseline.numBytes} -> ${end.numBytes}, page heap ${(baseline.heap / 2 ** 20).toFixed(1)} -> ${(end.heap / 2 ** 20).toFixed(1)} MiB`;
  testInfo.annotations.push({ type: 'soak', description: summary });
  console.log(`[soak] ${summary}`);
  expect(switches).toBeGreaterThanOrEqual(5);
  expect(end.numTensors).toBe(baseline.numTensors);
  expect(end.numBytes).toBe(baseline.numBytes);
  expect(end.heap - baseline.heap, 'page heap growth after GC').toBeLessThan(8 * 2 ** 20);
});
