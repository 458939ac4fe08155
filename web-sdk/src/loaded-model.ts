/**
 * @module loaded-model
 * `client.load(name)` and the model it returns: predict checks and packs the input, runs it in the
 * runner and hands the outcome to telemetry after the call; reload syncs and swaps versions only
 * between calls. Delivery (delivery.ts) does the syncing and instantiating.
 */
import type { Backend, IoSchema } from '@modelfleet/protocol';
import type { Delivery, RunningModel } from './delivery.ts';
import { SdkError } from './errors.ts';
import { prepareInputs } from './inputs.ts';
import type { SyncProgress } from './sync.ts';
import { firstRowTop, inputRows } from './telemetry/rows.ts';
import type { Inputs, Outputs, PredictOptions } from './tensors.ts';

export interface LoadedModel {
  readonly name: string;
  readonly version: number;
  /** The backend of the last call (it changes if a lost WebGPU device forced a fallback). */
  readonly backend: Backend;
  /** The signed input/output signature of the running version (null = any size). */
  readonly io: IoSchema;
  /**
   * Runs the model. `input`: nested arrays, `{ data, shape }` (its buffer moves to the worker),
   * an image source or a batch of them, or all of these by input name. Checked against the
   * signed signature first: a bad input throws an SdkError (`input_shape`, `input_dtype`, …)
   * and nothing runs. Outputs are typed arrays with shape and dtype; `toArrays()` nests them.
   */
  predict(input: Inputs, options?: PredictOptions): Promise<Outputs>;
  /** Syncs now and, if a newer version is active in the cache, swaps to it after in-flight calls. */
  reload(): Promise<{ version: number; changed: boolean; downloadedBytes: number }>;
  /**
   * The true label for a prediction, when the app learns it: counted as correct or incorrect
   * against the top class of `prediction` (default: the first row of the last predict) and sent
   * with the day's health record — never the label itself. Rollouts compare label accuracy.
   */
  feedback(label: number | string, prediction?: number[]): void;
}

export interface LoadOptions {
  onProgress?: (p: SyncProgress) => void;
}

/** A User Timing mark, for profiling a load in the browser's performance panel. */
const mark = (name: string) => (globalThis.performance as Performance | undefined)?.mark?.(name);

const closedError = () => new SdkError('closed', 'this client was closed; create a new one');

export async function loadModel(d: Delivery, name: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  if (d.closed) throw closedError();
  const synced = await d.sync(name, opts.onProgress);
  mark('modelfleet:load:synced');
  const first = await d.instantiate(name, synced, opts.onProgress);
  mark('modelfleet:load:instantiated');
  const { handle, version, backend, io } = first;
  const current: RunningModel = { handle, version, backend, io, inflight: new Set(), lastTop: null };
  d.models.set(name, current);
  await d.telemetry.started(name, version, first.digest);
  Object.assign(d.entry(name), { version, backend });
  return {
    name,
    get version() {
      return current.version;
    },
    get backend() {
      return current.backend;
    },
    get io() {
      return current.io;
    },
    predict: (input, options) => predict(d, name, current, input, options),
    reload: () => reload(d, name, current),
    feedback(label, prediction) {
      d.telemetry.feedback(name, current.version, label, prediction, current.lastTop);
    },
  };
}

async function predict(
  d: Delivery,
  name: string,
  current: RunningModel,
  input: Inputs,
  options?: PredictOptions,
): Promise<Outputs> {
  if (d.closed) throw closedError();
  // Checked and packed before anything runs: a bad input is the app's error, not the model's.
  const prepared = await prepareInputs(current.io, input, options, d.telemetry.measure(name));
  // Tabular inputs are copied for the drift sketch before their buffers move to the worker.
  const rows = d.telemetry.sketching(name) ? inputRows(prepared.wire, current.io.inputs[0]!.name) : null;
  const started = performance.now();
  const call = d.runner.predict(current.handle, prepared.wire, prepared.transfer).catch((e) => {
    d.telemetry.predictFailed(name, current.version, performance.now() - started, current.backend);
    throw new SdkError('inference_failed', `predict failed: ${(e as Error).message}`, e);
  });
  current.inflight.add(call);
  try {
    const { outputs, backend: answeredBy, inputStats } = await call;
    const ms = performance.now() - started;
    current.lastTop = firstRowTop(outputs);
    if (answeredBy !== current.backend) d.entry(name).backend = current.backend = answeredBy;
    d.telemetry.predicted({ name, rows, outputs, ms, answeredBy, ...(inputStats ? { stats: inputStats } : {}) });
    return outputs;
  } finally {
    current.inflight.delete(call);
  }
}

async function reload(d: Delivery, name: string, current: RunningModel): ReturnType<LoadedModel['reload']> {
  const synced = await d.sync(name);
  const downloadedBytes = synced?.kind === 'activated' ? synced.downloadedBytes : 0;
  const active = (await d.store.state(name)).active;
  if (!active || active.version === current.version) {
    return { version: current.version, changed: false, downloadedBytes };
  }
  const next = await d.instantiate(name, synced);
  const old = current.handle;
  await Promise.allSettled([...current.inflight]); // never swap mid-call
  Object.assign(current, { handle: next.handle, version: next.version, io: next.io });
  d.entry(name).version = next.version;
  await d.telemetry.replaced(name); // the old version's sketch and health are sent as they were
  await d.telemetry.started(name, next.version, active.digest);
  await d.runner.unload(old);
  return { version: next.version, changed: true, downloadedBytes };
}
