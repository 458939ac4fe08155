/**
 * @module browser
 * The browser entry (npm ESM and the <script> IIFE): createClient with inference in a Web
 * Worker by default. `workerUrl` says where modelfleet.worker.js is served (default: beside
 * this script).
 */
import { type ClientOptions, createClient as createCoreClient } from './client.ts';
import { SdkError } from './errors.ts';
import { createWorkerRunner } from './worker-runner.ts';

export { SdkError, SDK_ERROR_CODES, type SdkErrorCode } from './errors.ts';
export { createWorkerRunner, type WorkerRunnerOptions } from './worker-runner.ts';
export type { Client, ClientOptions, LoadedModel, LoadOptions, ModelStatus, OutboxStats, Runner } from './client.ts';
export { CLIENT_ISSUE_CODES, type ClientIssue, type ClientIssueCode } from './report.ts';
export { toArray, toArrays } from './tensors.ts';
export type {
  ImageOptions,
  ImageSource,
  InputValue,
  Inputs,
  NestedArray,
  OutputTensor,
  Outputs,
  PredictOptions,
  TensorData,
  TensorInput,
} from './tensors.ts';
export type { SyncProgress } from './sync.ts';

declare const document: { currentScript?: { src?: string } | null } | undefined;
/** Set to true by the <script> (IIFE) build only (web-sdk/scripts/build.mjs). */
declare const __MODELFLEET_IIFE__: boolean | undefined;
// The <script> build finds its worker beside its own src, captured at load time (currentScript is
// only set while a classic script runs). Never in the ESM build: an app's bundler may well load
// the SDK inside a classic-script chunk (Next.js does), whose src says nothing about the worker.
const scriptBase =
  typeof __MODELFLEET_IIFE__ !== 'undefined' && __MODELFLEET_IIFE__ && typeof document !== 'undefined'
    ? document?.currentScript?.src
    : undefined;

export type BrowserClientOptions = Omit<ClientOptions, 'runner'> & {
  runner?: ClientOptions['runner'];
  /** Where modelfleet.worker.js is served, when not beside this script (a CDN, a custom path). */
  workerUrl?: string | URL;
  /** Where the WASM binaries are, when not beside the worker: a folder URL ending in "/" or a map by file name. */
  wasmPaths?: string | Record<string, string>;
  /** How long the inference worker may take to start and answer before `worker_failed` (ms, default 15 000). */
  workerTimeout?: number;
};

/**
 * The inference worker beside this script. The ESM build keeps the `new Worker(new URL(…,
 * import.meta.url), { type: 'module' })` form verbatim, so Vite, webpack 5, Rollup, esbuild-based
 * tools and Next.js find the worker and ship it with the app; the <script> build (no
 * import.meta) finds it beside its own src.
 */
function defaultWorker(): Worker | URL {
  if (scriptBase) return new URL('modelfleet.worker.js', scriptBase);
  return new Worker(new URL('./modelfleet.worker.js', import.meta.url), {
    type: 'module',
    name: 'modelfleet-inference',
  });
}

/**
 * A client whose models run in a Web Worker. Import is safe anywhere (SSR, Node); calling it
 * outside a browser throws `unsupported_environment` unless you pass a `runner` and a `storage`.
 *
 * @example
 * const client = await createClient({ endpoint: 'https://models.example.com', appKey, trustRoot });
 * const model = await client.load('fraud');
 */
export async function createClient(options: BrowserClientOptions) {
  if (!options.runner && typeof Worker === 'undefined') {
    throw new SdkError(
      'unsupported_environment',
      'createClient runs models in a Web Worker, and there is none here (server-side rendering or Node?): call it in the browser (e.g. in a useEffect), or pass runner: createEngine() from @modelfleet/web-sdk/engine and a storage',
    );
  }
  if (typeof options.storage !== 'object' && typeof indexedDB === 'undefined') {
    throw new SdkError(
      'unsupported_environment',
      'createClient caches models in IndexedDB, and there is none here: call it in the browser, or pass storage: an open store (openStore over fake-indexeddb in Node)',
    );
  }
  const own = options.runner
    ? undefined
    : createWorkerRunner(options.workerUrl ?? defaultWorker(), {
        ...(options.wasmPaths ? { wasmPaths: options.wasmPaths } : {}),
        ...(options.workerTimeout ? { startTimeout: options.workerTimeout } : {}),
      });
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
