/**
 * @module worker
 * The inference worker (module Web Worker): the TF.js engine exposed over comlink. Optional
 * backends load on demand; WASM binaries are fetched from beside this script.
 */
import * as Comlink from 'comlink';
import { type Engine, createEngine } from './engine.ts';
import type { WireInput } from './tensors.ts';

const here = new URL('./', import.meta.url).href;

const engine = createEngine({
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(here);
  },
});

// Outputs go back to the page by transfer: their arrays are the worker's own copies (engine.ts).
Comlink.expose({
  ...engine,
  async predict(handle: number, wire: WireInput[]) {
    const answer = await engine.predict(handle, wire);
    return Comlink.transfer(answer, Object.values(answer.outputs).map((o) => o.data.buffer as ArrayBuffer));
  },
} satisfies Engine);
