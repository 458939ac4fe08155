/**
 * @module client
 * `createClient` → `client.load(name)` → `model.predict(input)`. The client keeps a verified
 * cache (sync.ts), runs inference through a Runner (a Web Worker in browsers, inline in tests),
 * polls for new tickets in the background, and swaps models only between calls.
 */
import { type Backend, DEFAULT_SIZE_CAPS, type DeviceProfile, type IoSchema, type Envelope, type SizeCaps, type SketchLayout, declaredInputStats, encodeUpload, healthLayout, parseEnvelope, parseManifest, sketchLayout } from '@modelfleet/protocol';
import { type Outbox, type OutboxStats, createOutbox } from './telemetry/outbox.ts';
import { type HealthRecorder, allFinite, createHealthRecorder } from './telemetry/health.ts';
import { type Sketcher, createSketcher, topClass } from './telemetry/sketcher.ts';
import { createStepHealth } from './telemetry/step-health.ts';
import { createWindowClock } from './telemetry/windows.ts';
import type { ModelStatus } from './status.ts';
import { loadArtifacts } from './artifacts.ts';
import { prepareInputs } from './inputs.ts';
import type { Inputs, Outputs, PredictOptions } from './tensors.ts';
import { firstRowTop, inputRows, outputRows } from './telemetry/rows.ts';
import { SdkError, toSdkError } from './errors.ts';
import type { Runner } from './runner.ts';
import { detectProfile, profileQuery, storageTierOf } from './profile.ts';
import { type ModelStore, openStore } from './store.ts';
import { type SyncContext, type SyncProgress, type SyncResult, syncModel } from './sync.ts';

export type { Runner } from './runner.ts';
export type { ModelStatus } from './status.ts';

export interface ClientOptions {
  endpoint: string;
  appKey: string;
  /** The pinned root.json (object or JSON text) from `modelfleet keys init`. */
  trustRoot: Envelope | string;
  deviceId?: string;
  fetch?: typeof fetch;
  /** An open store, or the IndexedDB database name (default "modelfleet"). */
  storage?: ModelStore | string;
  backends?: Backend[];
  /** Ticket polling period in ms (default 15 min, jittered ±20 %); 0 turns polling off. */
  pollInterval?: number;
  /** How long after its ticket expired a cached model is reported `stale` (ms, default 1 h). */
  staleAfter?: number;
  caps?: SizeCaps;
  /**
   * Chunk requests in flight (default 6). Measured under 40 ms RTT and 20 Mbit/s: one at a time
   * took 1.6× as long and two 1.15×; 4 to 16 were within 2 % of each other. 6 is what a browser
   * opens per host over HTTP/1.1, so more would only queue there.
   */
  parallel?: number;
  runner: Runner;
  now?: () => Date;
  /** Sketch inputs for drift monitoring and upload them (default true; needs a baseline in the manifest). */
  telemetry?: boolean;
  /** Reported for rollout targeting (default "web"; the React Native bridge says react-native-ios|android). */
  platform?: string;
  /** The host app's version, for rollouts that target app versions. */
  appVersion?: string;
  /** Device attestation (SPEC 11.4): `turnstile:<token>` from a Turnstile widget, or null; asked at most daily per model. */
  attest?: () => Promise<string | null>;
}

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

export async function createClient(options: ClientOptions) {
  if (!options.endpoint || !options.appKey || !options.trustRoot) {
    throw new SdkError('invalid_config', 'createClient needs endpoint, appKey and trustRoot (the root.json your operator published)');
  }
  const now = options.now ?? (() => new Date());
  const store = typeof options.storage === 'object' ? options.storage : await openStore(options.storage ?? 'modelfleet').catch((e) => {
    throw new SdkError('storage_unavailable', `IndexedDB is not available here (${(e as Error).message}); models cannot be cached`, e);
  });
  const [storedId, cachedTier] = await Promise.all([
    options.deviceId ? undefined : store.getMeta('deviceId'),
    store.getMeta('storageTier').catch(() => undefined) as Promise<DeviceProfile['storageTier']>,
  ]);
  let deviceId = options.deviceId ?? storedId;
  if (!deviceId) await store.putMeta('deviceId', (deviceId = crypto.randomUUID()));
  const trustRoot = typeof options.trustRoot === 'string' ? parseEnvelope(options.trustRoot, 'trustRoot') : options.trustRoot;
  const ctx: SyncContext = {
    edge: { endpoint: options.endpoint.replace(/\/$/, ''), appKey: options.appKey, fetch: options.fetch ?? globalThis.fetch.bind(globalThis) },
    store, trustRoot, deviceId, caps: options.caps ?? DEFAULT_SIZE_CAPS, parallel: options.parallel ?? 6, now,
    ...(options.attest ? { attest: options.attest } : {}),
    ...(typeof navigator !== 'undefined' && navigator.storage?.estimate ? { estimate: () => navigator.storage.estimate() } : {}),
  };
  // Rollout targeting: what the device knows at once, plus the storage tier from the last quota
  // estimate (kept in IndexedDB). The estimate takes 20–40 ms in a fresh browser profile, so no
  // request waits for it: a new device's first ticket goes without a storage tier (targeted as
  // unknown: it stays on the champion of a rollout that targets storage tiers) until it resolves.
  const known = detectProfile({ ...(options.platform ? { platform: options.platform } : {}), ...(options.appVersion ? { appVersion: options.appVersion } : {}) });
  let query = profileQuery({ ...known, ...(cachedTier ? { storageTier: cachedTier } : {}) });
  ctx.profileQuery = () => query;
  void ctx.estimate?.().then(({ quota }) => {
    const tier = storageTierOf(quota);
    if (!tier) return;
    query = profileQuery({ ...known, storageTier: tier });
    if (tier !== cachedTier) return store.putMeta('storageTier', tier);
  }).catch(() => {});
  const runner = options.runner;
  let backend: Promise<Backend> | undefined;
  let backendProblems: { backend: Backend; reason: string }[] = [];
  const status = new Map<string, ModelStatus>();
  const models = new Map<string, { handle: number; version: number; inflight: Set<Promise<unknown>> }>();
  const outbox: Outbox = createOutbox(store, ctx.edge, deviceId, () => now().getTime());
  // `measure`: inputs whose declared statistics (@input.<input>.<stat>) the worker computes.
  const sketchers = new Map<string, { version: number; layout: SketchLayout; measure: ReadonlySet<string>; make: (window: number) => Sketcher; current: Sketcher } | null>();
  // Health is recorded for every model version, baseline or not.
  const healths = new Map<string, { version: number; current: HealthRecorder }>();
  // A step sketches like the day does, with the running version's baseline.
  const steps = createStepHealth(store, outbox, (name, version) => {
    const s = sketchers.get(name);
    return s && s.version === version ? s : null;
  });
  const windows = createWindowClock(store, now);
  const startHealth = (name: string, version: number) => {
    if (options.telemetry !== false) healths.set(name, { version, current: createHealthRecorder(windows.current(name)) });
  };

  /** Starts sketching a model version if its signed manifest carries a monitoring baseline. */
  async function startSketching(name: string, version: number, digest: string): Promise<void> {
    if (options.telemetry === false) return;
    const stored = await store.getManifest(digest);
    const baseline = stored ? parseManifest(stored.payload).monitoring.baseline : null;
    if (!baseline) return void sketchers.set(name, null);
    const layout = await sketchLayout(baseline);
    const make = (window: number) => createSketcher(baseline, layout, window);
    sketchers.set(name, { version, layout, measure: new Set(declaredInputStats(baseline.features).keys()), make, current: make(windows.current(name)) });
  }

  /** Ends a model's window: its sketch and health record go to the outbox (one each per device per window). */
  async function closeWindow(name: string, next?: number): Promise<void> {
    const window = next ?? windows.current(name);
    const h = healths.get(name);
    if (h) {
      const record = await h.current.build().catch(() => null);
      const layout = await healthLayout();
      h.current = createHealthRecorder(window);
      // A device its ticket put in a rollout's control range says so: only eligible devices count
      // in the control arm, so targeted rollouts compare like with like (and the SRM check holds).
      const control = await steps.controlRollout(name, h.version).catch(() => null);
      if (record) {
        await outbox.enqueue({ model: name, version: h.version, window: record.window, bytes: encodeUpload(layout, record), channel: 'health', ...(control ? { query: `&rollout=${encodeURIComponent(control)}` } : {}) });
      }
    }
    const s = sketchers.get(name);
    if (!s) return;
    const upload = s.current.build();
    s.current = s.make(window);
    if (!upload) return;
    await outbox.enqueue({ model: name, version: s.version, window: upload.window, bytes: encodeUpload(s.layout, upload) });
  }

  /**
   * Off the inference path: never delays or fails a predict. `rows`: the first input, copied before
   * it moved; `stats`: the worker's declared input statistics, per example.
   */
  function observe(name: string, rows: number[][] | null, outputs: Outputs, ms: number, answeredBy: Backend, stats?: Record<string, number>[]): void {
    setTimeout(() => {
      try {
        const window = windows.current(name);
        const h = healths.get(name);
        if (h && window !== h.current.window) void closeWindow(name, window).then(() => outbox.flush()).catch(() => {});
        const outcome = allFinite(outputs) ? 'ok' : 'non_finite';
        h?.current.predict(outcome, ms, answeredBy);
        const version = models.get(name)?.version;
        if (version !== undefined) steps.recorder(name, version)?.predict(outcome, ms, answeredBy);
        const s = sketchers.get(name);
        if (!s || (!rows && !stats)) return;
        if (!h && window !== s.current.window) void closeWindow(name, window).then(() => outbox.flush()).catch(() => {});
        const outRows = outputRows(outputs);
        s.current.observe(rows ?? [], outRows, stats);
        if (version !== undefined) steps.sketcher(name, version)?.observe(rows ?? [], outRows, stats);
      } catch {
        // telemetry never breaks the host
      }
    }, 0);
  }
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const entry = (name: string): ModelStatus => {
    let s = status.get(name);
    if (!s) status.set(name, (s = { version: null, cachedVersion: null, state: 'ready', backend: null, lastError: null, lastSync: null, backendProblems: [] }));
    return s;
  };

  /** Starts the runner's backend once, with the backends the model allows that the app prefers. */
  function startBackend(allowed: Backend[]): Promise<Backend> {
    const preference = (options.backends ?? ['webgpu', 'wasm', 'cpu']).filter((b) => allowed.includes(b));
    return (backend ??= runner.init(preference.length > 0 ? preference : ['cpu']).then(async (chosen) => {
      // A fallback is never silent: what did not start, and why, goes into status().
      backendProblems = (await runner.backendProblems?.().catch(() => [])) ?? [];
      return chosen;
    }));
  }

  /** SPEC 7: a failed sync is recorded; the active version keeps running. */
  async function trySync(name: string, onProgress?: (p: SyncProgress) => void): Promise<SyncResult | null> {
    const s = entry(name);
    try {
      // The backend starts while the chunks download (worker start and TF.js init overlap the network).
      const r = await syncModel(ctx, name, onProgress, { manifestVerified: (m) => void startBackend(m.runtime.backends).catch(() => {}) });
      s.lastError = null;
      s.lastSync = now().toISOString();
      s.cachedVersion = r.version;
      return r;
    } catch (e) {
      const err = toSdkError(e);
      s.lastError = { code: err.code, message: err.message };
      healths.get(name)?.current.syncFailed(err.code);
      if (!(await store.state(name)).active) throw err;
      return null;
    } finally {
      await windows.learn(name);
    }
  }

  async function instantiate(name: string, synced?: SyncResult | null, onProgress?: (p: SyncProgress) => void) {
    const state = await store.state(name);
    if (!state.active) throw new SdkError('no_model', `no verified version of ${name} is cached and the control plane could not be reached`);
    const just = synced?.kind === 'activated' && synced.digest === state.active.digest ? synced : undefined;
    const artifacts = await loadArtifacts(store, state.active, just?.fetched, just?.manifest);
    onProgress?.({ model: name, phase: 'load', loadedBytes: artifacts.weightData.byteLength, totalBytes: artifacts.weightData.byteLength });
    const chosen = await startBackend(artifacts.backends);
    try {
      const io = artifacts.io; // read before load: the runner may move the artifacts to its worker
      return { handle: await runner.load(artifacts), version: state.active.version, backend: chosen, io };
    } catch (e) {
      throw new SdkError('load_failed', `TF.js could not load ${name} v${state.active.version}: ${(e as Error).message}`, e);
    }
  }

  /** Rollout steps: track the ticket's step for the running version and send its record when due. */
  async function followStep(name: string): Promise<void> {
    if (options.telemetry === false) return;
    try {
      await steps.onSync(name, models.get(name)?.version);
      await steps.send(name);
    } catch {} // telemetry never breaks the host
  }

  function schedulePoll(): void {
    if (!options.pollInterval || closed) return;
    const jitter = 0.8 + Math.random() * 0.4;
    timer = setTimeout(async () => {
      for (const name of models.keys()) {
        await trySync(name).catch(() => {});
        await followStep(name);
        if (healths.get(name)?.current.window !== windows.current(name)) await closeWindow(name).catch(() => {}); // over, with no predictions since
      }
      await outbox.flush().catch(() => {});
      schedulePoll();
    }, options.pollInterval * jitter);
  }
  schedulePoll();

  const client = {
    deviceId,
    async load(name: string, opts: { onProgress?: (p: SyncProgress) => void } = {}): Promise<LoadedModel> {
      if (closed) throw new SdkError('closed', 'this client was closed; create a new one');
      const synced = await trySync(name, opts.onProgress);
      (globalThis.performance as Performance | undefined)?.mark?.('modelfleet:load:synced');
      const first = await instantiate(name, synced, opts.onProgress);
      (globalThis.performance as Performance | undefined)?.mark?.('modelfleet:load:instantiated');
      const current = { handle: first.handle, version: first.version, backend: first.backend, io: first.io, inflight: new Set<Promise<unknown>>(), lastTop: null as number | null };
      models.set(name, current);
      startHealth(name, first.version);
      healths.get(name)?.current.load('ok');
      await followStep(name);
      await startSketching(name, first.version, (await store.state(name)).active!.digest).catch(() => sketchers.set(name, null));
      Object.assign(entry(name), { version: first.version, backend: first.backend });
      return {
        name,
        get version() { return current.version; },
        get backend() { return current.backend; },
        get io() { return current.io; },
        async predict(input: Inputs, predictOptions?: PredictOptions) {
          if (closed) throw new SdkError('closed', 'this client was closed; create a new one');
          // Checked and packed before anything runs: a bad input is the app's error, not the model's.
          const prepared = await prepareInputs(current.io, input, predictOptions, sketchers.get(name)?.measure);
          // Tabular inputs are copied for the drift sketch before their buffers move to the worker.
          const rows = sketchers.get(name) ? inputRows(prepared.wire, current.io.inputs[0]!.name) : null;
          const started = performance.now();
          const call = runner.predict(current.handle, prepared.wire, prepared.transfer).catch((e) => {
            try {
              healths.get(name)?.current.predict('inference_error', performance.now() - started, current.backend);
              steps.recorder(name, current.version)?.predict('inference_error', performance.now() - started, current.backend);
            } catch {} // telemetry never breaks the host
            throw new SdkError('inference_failed', `predict failed: ${(e as Error).message}`, e);
          });
          current.inflight.add(call);
          try {
            const { outputs, backend: answeredBy, inputStats } = await call;
            const ms = performance.now() - started;
            current.lastTop = firstRowTop(outputs);
            if (answeredBy !== current.backend) entry(name).backend = current.backend = answeredBy;
            observe(name, rows, outputs, ms, answeredBy, inputStats);
            return outputs;
          } finally {
            current.inflight.delete(call);
          }
        },
        feedback(label: number | string, prediction?: number[]) {
          try {
            const predicted = prediction ? topClass(prediction)?.[0] ?? null : current.lastTop;
            if (predicted !== null) {
              healths.get(name)?.current.feedback(String(label) === String(predicted));
              steps.recorder(name, current.version)?.feedback(String(label) === String(predicted));
            }
          } catch {} // telemetry never breaks the host
        },
        async reload() {
          const synced = await trySync(name);
          const downloadedBytes = synced?.kind === 'activated' ? synced.downloadedBytes : 0;
          const active = (await store.state(name)).active;
          if (!active || active.version === current.version) return { version: current.version, changed: false, downloadedBytes };
          const next = await instantiate(name, synced);
          const old = current.handle;
          await Promise.allSettled([...current.inflight]); // never swap mid-call
          Object.assign(current, { handle: next.handle, version: next.version, io: next.io });
          entry(name).version = next.version;
          await closeWindow(name).catch(() => {}); // the old version's sketch and health are sent as they were
          startHealth(name, next.version);
          healths.get(name)?.current.load('ok');
          await followStep(name);
          await startSketching(name, next.version, active.digest).catch(() => sketchers.set(name, null));
          await runner.unload(old);
          return { version: next.version, changed: true, downloadedBytes };
        },
      };
    },

    async status(): Promise<Record<string, ModelStatus>> {
      const out: Record<string, ModelStatus> = {};
      for (const [name, s] of status) {
        const state = await store.state(name);
        const expired = state.ticket ? Date.parse(state.ticket.expiresAt) + (options.staleAfter ?? 3600_000) < now().getTime() : true;
        const cachedVersion = state.active?.version ?? null;
        out[name] = {
          ...s,
          backendProblems,
          cachedVersion,
          state: s.lastError && expired ? 'stale' : s.lastError?.code === 'network' ? 'offline' : s.lastError ? 'error'
            : cachedVersion !== null && cachedVersion !== s.version ? 'update-ready' : 'ready',
        };
      }
      return out;
    },

    /**
     * Ends this device's drift window now: the sketches go to the outbox and uploads are tried.
     * A device contributes once per window, so call it when the app is done for the window (the day, by default).
     */
    async flush(): Promise<OutboxStats> {
      await new Promise((r) => setTimeout(r, 0)); // let pending observations land
      for (const name of steps.names()) await steps.send(name).catch(() => {});
      for (const name of new Set([...sketchers.keys(), ...healths.keys()])) await closeWindow(name).catch(() => {});
      await outbox.flush();
      return outbox.stats();
    },

    telemetry: () => outbox.stats(),

    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const m of models.values()) await runner.unload(m.handle);
      models.clear();
      if (typeof options.storage !== 'object') store.close();
    },
  };
  return client;
}

export type Client = Awaited<ReturnType<typeof createClient>>;
