/**
 * @module webview/page
 * The script of the bundled page (dist/page.html) the hidden WebView loads: the web SDK with
 * inference inline on the page (the WebView is already off the React Native JS thread, and a
 * single inlined file needs no worker URL), WebGPU where the WebView has it, else WASM from the
 * SIMD binary inlined in the page (or from the app's `wasmPaths`), else CPU. Messages arrive as
 * `message` events (on window on iOS, on document on Android) and leave through
 * window.ReactNativeWebView.postMessage.
 */
import { createClient } from '@modelfleet/web-sdk/client';
import { createEngine } from '@modelfleet/web-sdk/engine';
import { fromBase64 } from '@modelfleet/protocol';
import type { ClientConfig } from '@modelfleet/protocol/bridge';
import { type PageClient, createPageServer } from './serve.ts';

/** tfjs-backend-wasm-simd.wasm as base64, put here by scripts/build-page.mjs (esbuild define). */
declare const __WASM_SIMD_BASE64__: string;

interface RNWindow {
  ReactNativeWebView?: { postMessage(data: string): void };
}
const host = globalThis as unknown as RNWindow & {
  addEventListener: typeof addEventListener;
  document?: { addEventListener: typeof addEventListener };
};

async function makeClient(config: ClientConfig): Promise<PageClient> {
  const runner = createEngine({
    webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
    wasm: async () => {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (config.wasmPaths) return wasm.setWasmPaths(config.wasmPaths);
      await useInlineWasm(wasm.setWasmPaths);
    },
  });
  const { os, wasmPaths: _, ...rest } = config;
  const client = await createClient({ ...rest, runner, platform: `react-native-${os}` });
  return client as unknown as PageClient;
}

/**
 * Points TF.js at the inlined SIMD binary (a blob: URL), so WASM needs no network or app asset.
 * Only SIMD is inlined (+0.55 MiB; every Android System WebView since Chrome 91 and iOS 16.4+ has
 * it); a WebView without SIMD throws here and the engine moves on to CPU. Threads stay off: a page
 * loaded from a string is not cross-origin isolated, so there is no SharedArrayBuffer anyway.
 */
async function useInlineWasm(setWasmPaths: (paths: Record<string, string>) => void): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('this WebView has no WebAssembly SIMD');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const url = URL.createObjectURL(
    new Blob([fromBase64(__WASM_SIMD_BASE64__) as Uint8Array<ArrayBuffer>], { type: 'application/wasm' }),
  );
  // All three names must be mapped; with SIMD present and threads off, TF.js asks only for -simd.
  setWasmPaths({
    'tfjs-backend-wasm.wasm': url,
    'tfjs-backend-wasm-simd.wasm': url,
    'tfjs-backend-wasm-threaded-simd.wasm': url,
  });
}

const server = createPageServer((raw) => {
  if (!host.ReactNativeWebView) throw new Error('not inside a React Native WebView');
  host.ReactNativeWebView.postMessage(raw);
}, makeClient);
const onMessage = (e: Event) => server.receive((e as MessageEvent).data);
host.addEventListener('message', onMessage);
host.document?.addEventListener('message', onMessage); // Android delivers here
server.announce();
