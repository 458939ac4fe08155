/**
 * @module worker
 * The inference worker (module Web Worker): the TF.js engine exposed over comlink. Optional
 * backends load on demand; WASM binaries are fetched from beside this script.
 */
import * as Comlink from 'comlink';
import { createEngine } from './engine.ts';

const here = new URL('./', import.meta.url).href;

const engine = createEngine({
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(here);
  },
});

Comlink.expose(engine);
