/**
 * @module worker-runner
 * Runs the engine in a module Web Worker through comlink, so inference never blocks the page.
 * Weights, input tensors, image bitmaps and outputs are transferred, not copied. Errors cross
 * the worker as message + name only.
 *
 * A worker that cannot start (its URL answers HTML, a 404, a script error) or does not answer
 * within `startTimeout` fails every call with `worker_failed` — never a hang. A worker script on
 * another origin (a CDN) is started through a same-origin blob that imports it, since browsers
 * refuse `new Worker(crossOriginUrl)`.
 */
import * as Comlink from 'comlink';
import type { Runner } from './client.ts';
import { SdkError } from './errors.ts';
import type { WorkerApi } from './engine-api.ts';

export interface WorkerRunnerOptions {
  /** How long the worker may take to start and answer (ms, default 15 000). */
  startTimeout?: number;
  /** Where the WASM binaries are, when not beside the worker: a folder URL ending in "/" or a map by file name. */
  wasmPaths?: string | Record<string, string>;
}

export type WorkerRunner = Runner & { terminate(): void; engine: Comlink.Remote<WorkerApi>; ready: Promise<void> };

const sameOrigin = (url: URL) =>
  typeof location === 'undefined' ||
  url.origin === location.origin ||
  url.protocol === 'blob:' ||
  url.protocol === 'data:';

/** A module worker for `url`, through a blob bootstrap when the script is on another origin. */
function startWorker(url: URL): Worker {
  if (sameOrigin(url)) return new Worker(url, { type: 'module', name: 'modelfleet-inference' });
  // The imported script must be served with CORS (CDNs such as unpkg and jsDelivr are); inside it,
  // import.meta.url is the CDN URL, so the WASM binaries are found beside it there.
  const bootstrap = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
  return new Worker(bootstrap, { type: 'module', name: 'modelfleet-inference' });
}

/**
 * `worker`: the worker script's URL, or a Worker already started (how bundlers want it written:
 * `new Worker(new URL('./modelfleet.worker.js', import.meta.url), { type: 'module' })`).
 */
export function createWorkerRunner(worker: string | URL | Worker, options: WorkerRunnerOptions = {}): WorkerRunner {
  const given = typeof Worker !== 'undefined' && worker instanceof Worker ? worker : undefined;
  const where = given ? 'the inference worker' : `the inference worker at ${String(worker)}`;
  const w = given ?? startWorker(new URL(String(worker), typeof location === 'undefined' ? undefined : location.href));
  const engine = Comlink.wrap<WorkerApi>(w);
  const timeout = options.startTimeout ?? 15_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) =>
      reject(
        new SdkError(
          'worker_failed',
          `${where} ${why}; serve modelfleet.worker.js (a JavaScript module) beside the SDK's script, or pass workerUrl`,
        ),
      );
    w.addEventListener(
      'error',
      (e) => fail(`did not start (${(e as ErrorEvent).message || 'the script failed to load'})`),
      { once: true },
    );
    w.addEventListener('messageerror', () => fail('sent a message that could not be read'), { once: true });
    timer = setTimeout(() => fail(`did not answer within ${timeout} ms`), timeout);
  });
  failed.catch(() => {}); // observed by every call below
  // The handshake: the worker's module has evaluated when it answers.
  const ready = Promise.race([engine.backend().then(() => clearTimeout(timer)), failed]).then(async () => {
    if (options.wasmPaths) await engine.configure({ wasmPaths: options.wasmPaths });
  });
  ready.catch(() => {});
  const guarded = <T>(call: () => Promise<T>): Promise<T> => Promise.race([ready.then(call), failed]);
  return {
    init: (preference) => guarded(() => engine.init(preference)),
    load: (artifacts) => guarded(() => engine.load(Comlink.transfer(artifacts, [artifacts.weightData]))),
    predict: (handle, inputs, transfer = []) =>
      guarded(() => engine.predict(handle, Comlink.transfer(inputs, transfer))),
    unload: (handle) => guarded(() => engine.unload(handle)),
    backendProblems: () => guarded(() => engine.backendProblems()),
    terminate: () => {
      clearTimeout(timer);
      w.terminate();
    },
    engine,
    ready,
  };
}
