/**
 * @module telemetry/client-telemetry
 * The client's telemetry half: per model, the window's health record and drift sketch (windows.ts
 * says which window it is), the rollout step's records (step-health.ts), feedback, and the outbox
 * that uploads them all. Delivery (delivery.ts) tells it what runs and what each call did; nothing
 * here runs on the inference path, and nothing throws into the host: each failure caught here goes
 * to the client's onError hook (report.ts) instead.
 */
import {
  type Backend,
  type SketchLayout,
  declaredInputStats,
  encodeUpload,
  healthLayout,
  parseManifest,
  sketchLayout,
} from '@modelfleet/protocol';
import type { EdgeClient } from '../http.ts';
import type { Report } from '../report.ts';
import type { ModelStore } from '../store.ts';
import type { Outputs } from '../tensors.ts';
import { type HealthRecorder, allFinite, createHealthRecorder } from './health.ts';
import { type Outbox, type OutboxStats, createOutbox } from './outbox.ts';
import { outputRows } from './rows.ts';
import { type Sketcher, createSketcher, topClass } from './sketcher.ts';
import { createStepHealth } from './step-health.ts';
import { createWindowClock } from './windows.ts';

export interface TelemetryOptions {
  store: ModelStore;
  edge: EdgeClient;
  deviceId: string;
  now: () => Date;
  /** ClientOptions.telemetry: false records no health and no sketches, and follows no rollout step. */
  enabled: boolean;
  /** The version of a model that runs now (undefined before its first load). */
  runningVersion: (name: string) => number | undefined;
  report: Report;
}

/** What delivery tells telemetry, and what the client's flush and telemetry() read. */
export interface ClientTelemetry {
  /** A sync of `name` failed with `code` (counted in the window's health as a verify failure where it is one). */
  syncFailed(name: string, code: string): void;
  /** After every sync: the window length the model's stored ticket names. */
  learnWindow(name: string): Promise<void>;
  /** `version` of `name` (manifest `digest`) started running: record its health, follow its step, sketch it. */
  started(name: string, version: number, digest: string): Promise<void>;
  /** The running version is being replaced: its sketch and health go to the outbox as they are. */
  replaced(name: string): Promise<void>;
  /** Inputs whose declared statistics the runner should measure (from the signed baseline). */
  measure(name: string): ReadonlySet<string> | undefined;
  /** True when `name` is sketched (its inputs are copied before they move to the worker). */
  sketching(name: string): boolean;
  /** A prediction answered; recorded after the current task, so it never delays the caller. */
  predicted(call: PredictRecord): void;
  /** A prediction failed in the runner. */
  predictFailed(name: string, version: number, ms: number, backend: Backend): void;
  /**
   * The app's label for a prediction, counted as correct or not against the top class of `prediction`
   * (default: `lastTop`, the first row's top class of the last predict).
   */
  feedback(
    name: string,
    version: number,
    label: number | string,
    prediction: number[] | undefined,
    lastTop: number | null,
  ): void;
  /** Each poll, after the model's sync: follow its step, and close a window that ended without predictions. */
  polled(name: string): Promise<void>;
  /** Tries the queued uploads (each poll). */
  upload(): Promise<void>;
  /** Ends every window now and tries the uploads (client.flush). */
  flush(): Promise<OutboxStats>;
  stats(): Promise<OutboxStats>;
}

/** One answered prediction: `rows`, the first input copied before it moved; `stats`, the runner's input statistics. */
export interface PredictRecord {
  name: string;
  rows: number[][] | null;
  outputs: Outputs;
  ms: number;
  answeredBy: Backend;
  stats?: Record<string, number>[];
}

/** A sketched model version. */
interface ModelSketch {
  version: number;
  layout: SketchLayout;
  /** Inputs whose declared statistics (@input.<input>.<stat>) the worker computes. */
  measure: ReadonlySet<string>;
  make: (window: number) => Sketcher;
  current: Sketcher;
}

/** Per-model telemetry state, shared by the functions below. */
interface State {
  options: TelemetryOptions;
  outbox: Outbox;
  /** null: the running version has no baseline (or sketching it failed). */
  sketchers: Map<string, ModelSketch | null>;
  /** Health is recorded for every model version, baseline or not. */
  healths: Map<string, { version: number; current: HealthRecorder }>;
  steps: ReturnType<typeof createStepHealth>;
  windows: ReturnType<typeof createWindowClock>;
}

export function createClientTelemetry(options: TelemetryOptions): ClientTelemetry {
  const { store, report } = options;
  const outbox = createOutbox(store, options.edge, options.deviceId, () => options.now().getTime(), report);
  const sketchers = new Map<string, ModelSketch | null>();
  // A step sketches like the window does, with the running version's baseline.
  const steps = createStepHealth(store, outbox, (name, version) => {
    const s = sketchers.get(name);
    return s && s.version === version ? s : null;
  });
  const windows = createWindowClock(store, options.now, report);
  const t: State = { options, outbox, sketchers, healths: new Map(), steps, windows };
  return {
    syncFailed: (name, code) => t.healths.get(name)?.current.syncFailed(code),
    learnWindow: (name) => windows.learn(name),
    started: (name, version, digest) => started(t, name, version, digest),
    replaced: (name) => closeWindow(t, name).catch((e) => report('window_close', e, { model: name })),
    measure: (name) => sketchers.get(name)?.measure,
    sketching: (name) => !!sketchers.get(name),
    predicted: (call) => void setTimeout(() => observe(t, call), 0),
    predictFailed: (name, version, ms, backend) =>
      guard(t, 'observe', name, () => {
        t.healths.get(name)?.current.predict('inference_error', ms, backend);
        steps.recorder(name, version)?.predict('inference_error', ms, backend);
      }),
    feedback: (name, version, label, prediction, lastTop) =>
      guard(t, 'feedback', name, () => {
        const predicted = prediction ? (topClass(prediction)?.[0] ?? null) : lastTop;
        if (predicted === null) return;
        t.healths.get(name)?.current.feedback(String(label) === String(predicted));
        steps.recorder(name, version)?.feedback(String(label) === String(predicted));
      }),
    polled: (name) => polled(t, name),
    upload: () => outbox.flush().catch((e) => report('upload_failed', e)),
    flush: () => flush(t),
    stats: () => outbox.stats(),
  };
}

function guard(t: State, code: 'observe' | 'feedback', model: string, record: () => void): void {
  try {
    record();
  } catch (e) {
    t.options.report(code, e, { model });
  }
}

async function started(t: State, name: string, version: number, digest: string): Promise<void> {
  if (t.options.enabled) t.healths.set(name, { version, current: createHealthRecorder(t.windows.current(name)) });
  t.healths.get(name)?.current.load('ok');
  await followStep(t, name);
  await startSketching(t, name, version, digest).catch((e) => {
    t.options.report('sketch', e, { model: name, version });
    t.sketchers.set(name, null);
  });
}

/** Starts sketching a model version if its signed manifest carries a monitoring baseline. */
async function startSketching(t: State, name: string, version: number, digest: string): Promise<void> {
  if (!t.options.enabled) return;
  const stored = await t.options.store.getManifest(digest);
  const baseline = stored ? parseManifest(stored.payload).monitoring.baseline : null;
  if (!baseline) return void t.sketchers.set(name, null);
  const layout = await sketchLayout(baseline);
  const make = (window: number) => createSketcher(baseline, layout, window);
  const measure = new Set(declaredInputStats(baseline.features).keys());
  t.sketchers.set(name, { version, layout, measure, make, current: make(t.windows.current(name)) });
}

/** Rollout steps: track the ticket's step for the running version and send its record when due. */
async function followStep(t: State, name: string): Promise<void> {
  if (!t.options.enabled) return;
  try {
    await t.steps.onSync(name, t.options.runningVersion(name));
    await t.steps.send(name);
  } catch (e) {
    t.options.report('rollout_step', e, { model: name });
  }
}

/** Ends a model's window: its sketch and health record go to the outbox (one each per device per window). */
async function closeWindow(t: State, name: string, next?: number): Promise<void> {
  const {
    outbox,
    options: { report },
  } = t;
  const window = next ?? t.windows.current(name);
  const h = t.healths.get(name);
  if (h) {
    const version = h.version;
    const record = await h.current.build().catch((e) => void report('health_record', e, { model: name, version }));
    const layout = await healthLayout();
    h.current = createHealthRecorder(window);
    // A device its ticket put in a rollout's control range says so: only eligible devices count
    // in the control arm, so targeted rollouts compare like with like (and the SRM check holds).
    const control = await t.steps
      .controlRollout(name, version)
      .catch((e) => void report('rollout_step', e, { model: name, version }));
    if (record) {
      const query = control ? { query: `&rollout=${encodeURIComponent(control)}` } : {};
      const bytes = encodeUpload(layout, record);
      await outbox.enqueue({ model: name, version, window: record.window, bytes, channel: 'health', ...query });
    }
  }
  const s = t.sketchers.get(name);
  if (!s) return;
  const upload = s.current.build();
  s.current = s.make(window);
  if (!upload) return;
  const bytes = encodeUpload(s.layout, upload);
  await outbox.enqueue({ model: name, version: s.version, window: upload.window, bytes });
}

/** Closes the window that ended before this observation, then uploads; off the caller's path. */
function closeEnded(t: State, name: string, window: number): void {
  void closeWindow(t, name, window)
    .then(() => t.outbox.flush())
    .catch((e) => t.options.report('window_close', e, { model: name }));
}

/** Off the inference path: never delays or fails a predict. */
function observe(t: State, { name, rows, outputs, ms, answeredBy, stats }: PredictRecord): void {
  try {
    const window = t.windows.current(name);
    const h = t.healths.get(name);
    if (h && window !== h.current.window) closeEnded(t, name, window);
    const outcome = allFinite(outputs) ? 'ok' : 'non_finite';
    h?.current.predict(outcome, ms, answeredBy);
    const version = t.options.runningVersion(name);
    if (version !== undefined) t.steps.recorder(name, version)?.predict(outcome, ms, answeredBy);
    const s = t.sketchers.get(name);
    if (!s || (!rows && !stats)) return;
    if (!h && window !== s.current.window) closeEnded(t, name, window);
    const outRows = outputRows(outputs);
    s.current.observe(rows ?? [], outRows, stats);
    if (version !== undefined) t.steps.sketcher(name, version)?.observe(rows ?? [], outRows, stats);
  } catch (e) {
    t.options.report('observe', e, { model: name });
  }
}

async function polled(t: State, name: string): Promise<void> {
  await followStep(t, name);
  // A window that is over, with no predictions since to close it.
  if (t.healths.get(name)?.current.window !== t.windows.current(name)) {
    await closeWindow(t, name).catch((e) => t.options.report('window_close', e, { model: name }));
  }
}

async function flush(t: State): Promise<OutboxStats> {
  await new Promise((r) => setTimeout(r, 0)); // let pending observations land
  for (const name of t.steps.names()) {
    await t.steps.send(name).catch((e) => t.options.report('rollout_step', e, { model: name }));
  }
  for (const name of new Set([...t.sketchers.keys(), ...t.healths.keys()])) {
    await closeWindow(t, name).catch((e) => t.options.report('window_close', e, { model: name }));
  }
  await t.outbox.flush();
  return t.outbox.stats();
}
