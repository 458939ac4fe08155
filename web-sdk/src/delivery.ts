/**
 * @module delivery
 * The client's delivery half: syncs a model (sync.ts) and keeps the outcome in its status, starts
 * the runner's backend once, puts the cache's active version into the runner, and answers
 * `status()`. Loaded models (loaded-model.ts) predict and reload through it; it tells telemetry
 * (telemetry/client-telemetry.ts) what each sync did.
 */
import type { Backend, IoSchema, Manifest } from '@modelfleet/protocol';
import { loadArtifacts } from './artifacts.ts';
import { SdkError, toSdkError } from './errors.ts';
import type { Report } from './report.ts';
import type { Runner } from './runner.ts';
import type { ModelStatus } from './status.ts';
import type { ModelStore } from './store.ts';
import { type SyncContext, type SyncProgress, type SyncResult, syncModel } from './sync.ts';
import type { ClientTelemetry } from './telemetry/client-telemetry.ts';

/** The backends a client tries when the app names none: the fastest first, CPU always works. */
export const DEFAULT_BACKENDS: readonly Backend[] = ['webgpu', 'wasm', 'cpu'];
/** ClientOptions.staleAfter's default: a cached model is reported stale an hour after its ticket expired. */
export const DEFAULT_STALE_AFTER_MS = 3_600_000;

/** A model version in the runner, as a loaded model sees it (swapped in place by reload). */
export interface RunningModel {
  handle: number;
  version: number;
  backend: Backend;
  io: IoSchema;
  /** Calls in flight: reload waits for them, so a model is never swapped mid-call. */
  inflight: Set<Promise<unknown>>;
  /** The top class of the first row of the last prediction (feedback's default). */
  lastTop: number | null;
}

/** The active version, started in the runner. */
export interface Instance {
  handle: number;
  version: number;
  digest: string;
  backend: Backend;
  io: IoSchema;
}

export interface DeliveryOptions {
  ctx: SyncContext;
  runner: Runner;
  telemetry: ClientTelemetry;
  report: Report;
  /** The loaded models by name (the client's; telemetry reads their versions). */
  models: Map<string, RunningModel>;
  backends?: Backend[];
  staleAfter?: number;
}

export interface Delivery {
  readonly store: ModelStore;
  readonly runner: Runner;
  readonly telemetry: ClientTelemetry;
  readonly models: Map<string, RunningModel>;
  readonly closed: boolean;
  /** The status kept for a model (created on first use). */
  entry(name: string): ModelStatus;
  /** SPEC 7: a failed sync is recorded; the active version keeps running. Throws only when none is cached. */
  sync(name: string, onProgress?: (p: SyncProgress) => void): Promise<SyncResult | null>;
  /**
   * Starts the cache's active version in the runner. `synced`: what the sync just verified, so the
   * version loads without reading it back from IndexedDB.
   */
  instantiate(name: string, synced?: SyncResult | null, onProgress?: (p: SyncProgress) => void): Promise<Instance>;
  status(): Promise<Record<string, ModelStatus>>;
  /** Stops accepting calls and unloads every model from the runner. */
  close(): Promise<void>;
}

interface State {
  options: DeliveryOptions;
  statuses: Map<string, ModelStatus>;
  backend?: Promise<Backend>;
  backendProblems: { backend: Backend; reason: string }[];
  closed: boolean;
}

export function createDelivery(options: DeliveryOptions): Delivery {
  const d: State = { options, statuses: new Map(), backendProblems: [], closed: false };
  return {
    store: options.ctx.store,
    runner: options.runner,
    telemetry: options.telemetry,
    models: options.models,
    get closed() {
      return d.closed;
    },
    entry: (name) => entry(d, name),
    sync: (name, onProgress) => trySync(d, name, onProgress),
    instantiate: (name, synced, onProgress) => instantiate(d, name, synced, onProgress),
    status: () => status(d),
    async close() {
      d.closed = true;
      for (const m of options.models.values()) await options.runner.unload(m.handle);
      options.models.clear();
    },
  };
}

function entry(d: State, name: string): ModelStatus {
  let s = d.statuses.get(name);
  if (!s) {
    s = {
      version: null,
      cachedVersion: null,
      state: 'ready',
      backend: null,
      lastError: null,
      lastSync: null,
      backendProblems: [],
    };
    d.statuses.set(name, s);
  }
  return s;
}

/** Starts the runner's backend once, with the backends the model allows that the app prefers. */
function startBackend(d: State, allowed: Backend[]): Promise<Backend> {
  const { runner, backends = DEFAULT_BACKENDS, report } = d.options;
  const preference = backends.filter((b) => allowed.includes(b));
  return (d.backend ??= runner.init(preference.length > 0 ? preference : ['cpu']).then(async (chosen) => {
    // A fallback is never silent: what did not start, and why, goes into status().
    d.backendProblems =
      (await runner.backendProblems?.().catch((e) => {
        report('backend_report', e);
        return [];
      })) ?? [];
    return chosen;
  }));
}

async function trySync(d: State, name: string, onProgress?: (p: SyncProgress) => void): Promise<SyncResult | null> {
  const { ctx, telemetry } = d.options;
  const s = entry(d, name);
  // The backend starts while the chunks download (worker start and TF.js init overlap the network);
  // a backend that fails to start fails the load in instantiate, which awaits the same promise.
  const manifestVerified = (m: Manifest) => void startBackend(d, m.runtime.backends).catch(() => {});
  try {
    const r = await syncModel(ctx, name, onProgress, { manifestVerified });
    s.lastError = null;
    s.lastSync = ctx.now().toISOString();
    s.cachedVersion = r.version;
    return r;
  } catch (e) {
    const err = toSdkError(e);
    s.lastError = { code: err.code, message: err.message };
    telemetry.syncFailed(name, err.code);
    if (!(await ctx.store.state(name)).active) throw err;
    return null;
  } finally {
    await telemetry.learnWindow(name);
  }
}

async function instantiate(
  d: State,
  name: string,
  synced?: SyncResult | null,
  onProgress?: (p: SyncProgress) => void,
): Promise<Instance> {
  const {
    ctx: { store },
    runner,
  } = d.options;
  const state = await store.state(name);
  if (!state.active) {
    const why = `no verified version of ${name} is cached and the control plane could not be reached`;
    throw new SdkError('no_model', why);
  }
  const { version, digest } = state.active;
  const just = synced?.kind === 'activated' && synced.digest === digest ? synced : undefined;
  const artifacts = await loadArtifacts(store, state.active, just?.fetched, just?.manifest);
  const bytes = artifacts.weightData.byteLength;
  onProgress?.({ model: name, phase: 'load', loadedBytes: bytes, totalBytes: bytes });
  const chosen = await startBackend(d, artifacts.backends);
  try {
    const io = artifacts.io; // read before load: the runner may move the artifacts to its worker
    return { handle: await runner.load(artifacts), version, digest, backend: chosen, io };
  } catch (e) {
    throw new SdkError('load_failed', `TF.js could not load ${name} v${version}: ${(e as Error).message}`, e);
  }
}

async function status(d: State): Promise<Record<string, ModelStatus>> {
  const {
    ctx: { store, now },
    staleAfter = DEFAULT_STALE_AFTER_MS,
  } = d.options;
  const out: Record<string, ModelStatus> = {};
  for (const [name, s] of d.statuses) {
    const state = await store.state(name);
    const expired = state.ticket ? Date.parse(state.ticket.expiresAt) + staleAfter < now().getTime() : true;
    const cachedVersion = state.active?.version ?? null;
    const updateReady = cachedVersion !== null && cachedVersion !== s.version;
    out[name] = {
      ...s,
      backendProblems: d.backendProblems,
      cachedVersion,
      state:
        s.lastError && expired
          ? 'stale'
          : s.lastError?.code === 'network'
            ? 'offline'
            : s.lastError
              ? 'error'
              : updateReady
                ? 'update-ready'
                : 'ready',
    };
  }
  return out;
}
