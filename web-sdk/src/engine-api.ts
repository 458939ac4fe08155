/**
 * @module engine-api
 * What the inference engine offers, as a declared interface: the TF.js engine (engine.ts)
 * implements it, the worker (worker.ts) exposes it over comlink, and the page (worker-runner.ts)
 * calls it — without the page's types reaching TF.js's.
 */
import type { Backend } from '@modelfleet/protocol';
import type { ModelArtifacts } from './artifacts.ts';
import type { InputStats } from './input-measure.ts';
import type { Outputs, WireInput } from './tensors.ts';

export interface BackendProblem {
  backend: Backend;
  /** Why it did not start, as TF.js or the browser said it. */
  reason: string;
}

export interface EngineApi {
  /** Chooses the first backend in `preference` that starts here (CPU last); reports which. */
  init(preference: Backend[]): Promise<Backend>;
  /** The running backend, once init has chosen one. */
  backend(): Backend | undefined;
  /** Backends tried before the chosen one, and why each did not start. */
  backendProblems(): Promise<BackendProblem[]>;
  /** Builds a model from verified artifacts; returns its handle. */
  load(artifacts: ModelArtifacts): Promise<number>;
  /**
   * Runs one call (a lost WebGPU device falls back and runs it again); the backend that answered
   * comes back too, and the declared statistics of measured inputs, per example.
   */
  predict(
    handle: number,
    inputs: WireInput[],
  ): Promise<{ outputs: Outputs; backend: Backend; inputStats?: InputStats }>;
  /** One call on the current backend, no fallback. */
  run(handle: number, inputs: WireInput[]): Promise<Outputs>;
  unload(handle: number): void;
  /** Diagnostics: destroys the WebGPU device, as a driver reset would (the fault suite uses it). */
  debugLoseGpuDevice(): boolean;
}

/** The worker's face: the engine, plus where its WASM binaries are. */
export interface WorkerApi extends EngineApi {
  /** Before init: a folder URL ending in "/" or a map by file name. */
  configure(options: { wasmPaths?: string | Record<string, string> }): void;
}
