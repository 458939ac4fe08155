/**
 * @module browser
 * The browser entry (npm ESM and the <script> IIFE): createClient with inference in a Web
 * Worker by default. `workerUrl` says where modelfleet.worker.js is served (default: beside
 * this script).
 */
import { type ClientOptions, createClient as createCoreClient } from './client.ts';
import { createWorkerRunner } from './worker-runner.ts';

export { SdkError, SDK_ERROR_CODES, type SdkErrorCode } from './errors.ts';
export { createWorkerRunner } from './worker-runner.ts';
export type { Client, ClientOptions, LoadedModel, ModelStatus, Runner } from './client.ts';
export { toArray, toArrays } from './tensors.ts';
export type {
  ImageOptions, ImageSource, InputValue, Inputs, NestedArray, OutputTensor, Outputs, PredictOptions, TensorData, TensorInput,
} from './tensors.ts';
export type { SyncProgress } from './sync.ts';

declare const document: { currentScript?: { src?: string } | null } | undefined;
// Captured at load time: document.currentScript is only set while a classic script runs.
const scriptBase = typeof document !== 'undefined' && document?.currentScript?.src ? new URL('./', document.currentScript.src).href : undefined;

export type BrowserClientOptions = Omit<ClientOptions, 'runner'> & { runner?: ClientOptions['runner']; workerUrl?: string | URL };

export async function createClient(options: BrowserClientOptions) {
  const base = scriptBase ?? new URL('./', import.meta.url).href;
  const own = options.runner ? undefined : createWorkerRunner(options.workerUrl ?? new URL('modelfleet.worker.js', base));
  const client = await createCoreClient({ ...options, runner: options.runner ?? own! }).catch((e) => {
    own?.terminate();
    throw e;
  });
  // A worker the SDK started is the SDK's to stop: close() frees its TF.js memory and GPU device.
  const close = client.close.bind(client);
  return Object.assign(client, {
    async close() {
      try {
        await close();
      } finally {
        own?.terminate();
      }
    },
  });
}
