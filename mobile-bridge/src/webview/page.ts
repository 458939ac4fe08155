/**
 * @module webview/page
 * The script of the bundled page (dist/page.html) the hidden WebView loads: the web SDK with
 * inference inline on the page (the WebView is already off the React Native JS thread, and a
 * single inlined file needs no worker URL), WebGPU where the WebView has it, WASM when the app
 * says where its binaries are, CPU otherwise. Messages arrive as `message` events (on window on
 * iOS, on document on Android) and leave through window.ReactNativeWebView.postMessage.
 */
import { createClient } from '@modelfleet/web-sdk/client';
import { createEngine } from '@modelfleet/web-sdk/engine';
import type { ClientConfig } from '@modelfleet/protocol/bridge';
import { type PageClient, createPageServer } from './serve.ts';

interface RNWindow { ReactNativeWebView?: { postMessage(data: string): void } }
const host = globalThis as unknown as RNWindow & { addEventListener: typeof addEventListener; document?: { addEventListener: typeof addEventListener } };

async function makeClient(config: ClientConfig): Promise<PageClient> {
  const runner = createEngine({
    webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
    ...(config.wasmPaths ? {
      wasm: async () => {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(config.wasmPaths!);
      },
    } : {}),
  });
  const { os, wasmPaths, backends, ...rest } = config;
  const client = await createClient({
    ...rest,
    runner,
    backends: (backends ?? ['webgpu', 'wasm', 'cpu']).filter((b) => b !== 'wasm' || wasmPaths),
    platform: `react-native-${os}`,
  });
  return client as unknown as PageClient;
}

const server = createPageServer((raw) => {
  if (!host.ReactNativeWebView) throw new Error('not inside a React Native WebView');
  host.ReactNativeWebView.postMessage(raw);
}, makeClient);
const onMessage = (e: Event) => server.receive((e as MessageEvent).data);
host.addEventListener('message', onMessage);
host.document?.addEventListener('message', onMessage); // Android delivers here
server.announce();
