/**
 * @module worker-runner
 * Runs the engine in a module Web Worker through comlink, so inference never blocks the page.
 * Weights, input tensors, image bitmaps and outputs are transferred, not copied. Errors cross
 * the worker as message + name only.
 */
import * as Comlink from 'comlink';
import type { Runner } from './client.ts';
import type { Engine } from './engine.ts';

/** `workerUrl` defaults to modelfleet.worker.js beside the SDK script. */
export function createWorkerRunner(workerUrl: string | URL): Runner & { terminate(): void; engine: Comlink.Remote<Engine> } {
  const worker = new Worker(workerUrl, { type: 'module', name: 'modelfleet-inference' });
  const engine = Comlink.wrap<Engine>(worker);
  return {
    init: (preference) => engine.init(preference),
    load: (artifacts) => engine.load(Comlink.transfer(artifacts, [artifacts.weightData])),
    predict: (handle, inputs, transfer = []) => engine.predict(handle, Comlink.transfer(inputs, transfer)),
    unload: (handle) => engine.unload(handle),
    terminate: () => worker.terminate(),
    engine,
  };
}
