/**
 * @module worker
 * The inference worker (module Web Worker): the TF.js engine exposed over comlink. Optional
 * backends load on demand; the WASM backend fetches only the one binary it chooses.
 */
import { env } from '@tensorflow/tfjs-core';
import * as Comlink from 'comlink';
import { createEngine } from './engine.ts';
import type { WorkerApi } from './engine-api.ts';
import type { WireInput } from './tensors.ts';

/**
 * The WASM binaries, each written as `new URL('./file', import.meta.url)` — the form Vite,
 * webpack 5, Rollup, esbuild-based tools and Next.js recognise — so an app's bundler ships them
 * beside this worker with no copying by hand. Nothing is fetched until the WASM backend starts, and
 * then only the SIMD or the plain binary. (The multi-threaded one needs a cross-origin isolated
 * page and a worker of its own; it is not used.)
 */
const SIMD = new URL('./tfjs-backend-wasm-simd.wasm', import.meta.url).href;
const WASM_FILES = {
  'tfjs-backend-wasm.wasm': new URL('./tfjs-backend-wasm.wasm', import.meta.url).href,
  'tfjs-backend-wasm-simd.wasm': SIMD,
  // TF.js wants all three named; multithreading is switched off below, so this one is never fetched.
  'tfjs-backend-wasm-threaded-simd.wasm': SIMD,
};

/** Where the WASM binaries are: the app's override (a CDN folder or a file map), else beside this worker. */
let wasmPaths: string | Record<string, string> = WASM_FILES;

const engine = createEngine({
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setWasmPaths(wasmPaths as Parameters<typeof wasm.setWasmPaths>[0]);
  },
});

// Outputs go back to the page by transfer: their arrays are the worker's own copies (engine.ts).
Comlink.expose({
  ...engine,
  async predict(handle: number, wire: WireInput[]) {
    const answer = await engine.predict(handle, wire);
    return Comlink.transfer(
      answer,
      Object.values(answer.outputs).map((o) => o.data.buffer as ArrayBuffer),
    );
  },
  /** Before init: where to fetch the WASM binaries from (a folder URL ending in / or a map by file name). */
  configure(options: { wasmPaths?: string | Record<string, string> }) {
    if (options.wasmPaths)
      wasmPaths = typeof options.wasmPaths === 'string' ? options.wasmPaths : { ...WASM_FILES, ...options.wasmPaths };
  },
} satisfies WorkerApi);
