/** The browser side of `npm run bench:grouped-conv` (bundled by bench/grouped-conv.ts): runs the layer cases on a backend. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { benchGroupedLayers } from './grouped-conv-cases';

setWasmPaths('/');

(window as unknown as { runGroupedBench: unknown }).runGroupedBench = async (backend: string, repeat: number) => {
  await tf.setBackend(backend);
  await tf.ready();
  let adapterInfo: unknown = null;
  if (tf.getBackend() === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> } }).gpu;
    const adapter = await gpu?.requestAdapter();
    const info = adapter?.info;
    adapterInfo =
      info === undefined
        ? null
        : { vendor: info['vendor'], architecture: info['architecture'], isFallbackAdapter: info['isFallbackAdapter'] };
  }
  return { ran: tf.getBackend(), rows: await benchGroupedLayers(repeat), adapterInfo };
};
