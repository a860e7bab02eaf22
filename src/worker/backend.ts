/**
 * Backend choice (worker side). WebGPU first; when the adapter is a software fallback
 * (`isFallbackAdapter`, e.g. SwiftShader on a machine with no GPU, where WebGPU is ~60x slower than
 * wasm SIMD) prefer wasm, then WebGL, then cpu. The report says what actually runs (`tf.getBackend()`)
 * and why.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { StudioError } from '../shared/errors';
import { registerWasmConvGradients } from '../core/kernels/conv-gradients';
import type { BackendChoice, BackendName, BackendReport, GpuAdapterSummary } from '../shared/protocol';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});
// Threaded wasm breaks in a bundled build when the page is cross-origin isolated; we never are, but be safe.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
// wasm lacks the filter gradient TF.js computes through every convolution (input gradients need it), and its
// input gradient is slower than one convolution: both as single convolutions (npm run bench:gradients).
registerWasmConvGradients('wasm');

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

/** Looks for a WebGPU adapter without starting the backend. */
export async function probeWebGpu(): Promise<GpuAdapterSummary | null> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (gpu === undefined) return null;
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) return null;
    const info = adapter.info ?? {};
    return {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      description: info.description ?? '',
      isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
    };
  } catch {
    return null;
  }
}

const describeAdapter = (adapter: GpuAdapterSummary): string =>
  [adapter.vendor, adapter.architecture, adapter.description].filter((part) => part !== '').join(' / ') || 'unnamed adapter';

async function trySetBackend(name: BackendName): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/** Switches TF.js to the chosen backend (or the best one for 'auto') and reports what runs. */
export async function selectBackend(choice: BackendChoice): Promise<BackendReport> {
  const adapter = await probeWebGpu();
  const attempts: Array<{ name: BackendName; reason: string }> = [];
  if (choice === 'auto') {
    if (adapter !== null && !adapter.isFallbackAdapter) {
      attempts.push({ name: 'webgpu', reason: `WebGPU on a hardware adapter (${describeAdapter(adapter)}).` });
    }
    const why =
      adapter === null
        ? 'No WebGPU adapter is available'
        : `The WebGPU adapter is a software fallback (${describeAdapter(adapter)}), far slower than wasm on the CPU`;
    attempts.push(
      { name: 'wasm', reason: `${why}: using wasm (SIMD) on the CPU.` },
      { name: 'webgl', reason: `${why}, and wasm could not start: using WebGL.` },
      { name: 'cpu', reason: `${why}, and neither wasm nor WebGL could start: using the plain JavaScript cpu backend (slow).` },
    );
  } else {
    attempts.push({ name: choice, reason: `Forced by the user (${choice}).` });
  }
  for (const attempt of attempts) {
    if (await trySetBackend(attempt.name)) {
      return { backend: tf.getBackend() as BackendName, requested: choice, adapter, reason: attempt.reason };
    }
  }
  throw new StudioError(
    'backend-unavailable',
    choice === 'auto'
      ? 'No TF.js backend could start in this browser.'
      : `The ${choice} backend could not start in this browser${choice === 'webgpu' ? ' (WebGPU may be disabled: in Chromium try --enable-unsafe-webgpu)' : ''}. Choose another backend.`,
  );
}

/**
 * Calls `onLost` once if the WebGPU device of the running backend is lost (driver reset, GPU removed, tab
 * backgrounded too long, or device.destroy()). After a loss every WebGPU op fails or returns garbage, so the
 * engine must stop using it. No-op on other backends.
 */
export function watchDeviceLoss(onLost: (message: string) => void): void {
  const device = webGpuDevice();
  if (device === null) return;
  void device.lost.then((info) => onLost(info.message || `reason: ${info.reason ?? 'unknown'}`));
}

/** The running WebGPU backend's device (null on other backends). */
export function webGpuDevice(): GPUDevice | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: GPUDevice }).device ?? null;
}
