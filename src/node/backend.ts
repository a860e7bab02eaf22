/** Node-side TF.js: the wasm backend (tfjs-node does not install here; wasm runs the real ResNet50 ~0.4 s). */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from '../core/kernels/conv-gradients';

// wasm lacks the filter gradient TF.js computes through every convolution (input gradients need it), and its
// input gradient is slower than one convolution: both as single convolutions (npm run bench:gradients).
registerWasmConvGradients('wasm');

export async function initNodeBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TF.js backend "${name}" could not start in Node`);
  }
  await tf.ready();
  return tf.getBackend();
}
