/**
 * @module sketches
 * Ingest of device feature sketches (DESIGN §7): validate at the edge — app scope, version,
 * monitoring schema, layout, L1, ranges, size, window — then hand the decoded vector to the
 * (model, version, window, cohort) Durable Object, which refuses a second upload per device.
 */
import {
  type StepPhase, type SketchLayout, type SketchUpload, decodeUpload, healthLayout, manifestDigest, parseEnvelope, parseManifest, fromBase64, sha256Hex, sketchLayout, stepCohort, uploadSize, utf8, windowOf,
} from '@modelfleet/protocol';
import type { App } from './apps.ts';
import { type EdgeEnv, r2Key } from './env.ts';
import { ApiError } from './http-error.ts';
import { controlArm, stepOf } from './tickets.ts';
import { TtlCache } from './ttl-cache.ts';

const versions = new TtlCache<string>();
const layouts = new Map<string, Promise<SketchLayout | null>>(); // by manifest digest: immutable

async function activeManifestDigest(env: EdgeEnv, model: string, version: number, ttlMs: number): Promise<string> {
  return versions.get(`${model}@${version}`, ttlMs, Date.now(), async () => {
    const row = await env.DB.prepare(
      'SELECT v.manifest_digest AS digest, v.status FROM models m LEFT JOIN versions v ON v.model_id = m.id AND v.version = ? WHERE m.name = ?',
    ).bind(version, model).first<{ digest: string | null; status: string | null }>();
    if (!row) throw new ApiError('unknown_model', `no model named ${model}`);
    if (!row.digest || row.status !== 'active') throw new ApiError('unknown_version', `model ${model} has no served version ${version}`);
    return row.digest;
  });
}

/** The sketch layout of a served version, or null when it has no monitoring baseline. */
export async function layoutForVersion(env: EdgeEnv, model: string, version: number, ttlMs = 0): Promise<SketchLayout | null> {
  return layoutFor(env, await activeManifestDigest(env, model, version, ttlMs));
}

/** The Durable Object holding one (model, version, window, cohort) aggregate. */
export function aggregateStub(env: EdgeEnv, model: string, version: number, window: number, cohort = 'all') {
  if (!env.AGGREGATES) throw new ApiError('internal', 'the AGGREGATES Durable Object is not bound');
  return env.AGGREGATES.get(env.AGGREGATES.idFromName(`${model}/${version}/${window}/${cohort}`));
}

function layoutFor(env: EdgeEnv, digest: string): Promise<SketchLayout | null> {
  let layout = layouts.get(digest);
  if (!layout) {
    layout = (async () => {
      const object = await env.ARTIFACTS.get(r2Key.manifest(digest));
      if (!object) throw new ApiError('unknown_version', `manifest ${digest} is missing`);
      const payload = fromBase64(parseEnvelope(await object.text(), 'manifest').payload);
      if ((await manifestDigest(payload)) !== digest) throw new ApiError('internal', `stored manifest ${digest} does not match its name`);
      const baseline = parseManifest(payload).monitoring.baseline;
      return baseline ? sketchLayout(baseline) : null;
    })();
    layout.catch(() => layouts.delete(digest));
    layouts.set(digest, layout);
  }
  return layout;
}

export type SketchChannel = 'sketches' | 'health' | 'step-health' | 'step-sketches';

export interface IngestRequest { app: App; device: string; model: string; version: number; body: ArrayBuffer; now: Date; ttlMs: number; channel?: SketchChannel; rollout?: string; phase?: StepPhase }

/**
 * The aggregate cohort of an upload: drift sketches go to 'all'; health to 'health', except a
 * rollout's control devices reporting on the champion, which go to 'health-control' (only there,
 * so each device still lands in exactly one aggregate).
 */
export const cohortOf = (channel: SketchChannel, control: string | null = null) => (channel === 'health' ? (control ? 'health-control' : 'health') : 'all');

export async function ingestSketch(env: EdgeEnv, req: IngestRequest): Promise<{ devices: number; window: number }> {
  const channel = req.channel ?? 'sketches';
  const digest = await activeManifestDigest(env, req.model, req.version, req.ttlMs);
  const drift = channel === 'sketches' || channel === 'step-sketches'; // against the version's baseline
  const layout = drift ? await layoutFor(env, digest) : await healthLayout();
  if (!layout) throw new ApiError('no_baseline', `${req.model} v${req.version} was published without a monitoring baseline; nothing to sketch against`);
  if (req.body.byteLength !== uploadSize(layout)) {
    throw new ApiError(req.body.byteLength > uploadSize(layout) ? 'payload_too_large' : 'sketch_malformed', `an upload for ${req.model} v${req.version} is exactly ${uploadSize(layout)} bytes, got ${req.body.byteLength}`);
  }
  const upload = decodeUpload(layout, new Uint8Array(req.body));
  if (channel === 'step-health' || channel === 'step-sketches') return ingestStep(env, req, layout, upload, channel);
  const today = windowOf(req.now);
  // The current day and the one before (late uploads) are open; older windows are closed.
  if (upload.window !== today && upload.window !== today - 1) {
    throw new ApiError('window_closed', `window ${upload.window} is closed (open: ${today - 1} and ${today}); sketches are sent for the current day`);
  }
  // Salted per window: the aggregate can refuse replays without being able to link a device across days.
  const deviceHash = await sha256Hex(utf8(`${req.app.id}:${req.device}:${req.model}:${req.version}:${upload.window}:${channel}`));
  const control = channel === 'health' ? await controlArm(env, req.model, req.version, req.device, req.rollout, req.ttlMs) : null;
  const stub = aggregateStub(env, req.model, req.version, upload.window, cohortOf(channel, control));
  const result = await stub.add(layout, deviceHash, upload);
  if (result.devices < 0) throw new ApiError('window_closed', `window ${upload.window} was already closed and released`);
  if (!result.accepted) throw new ApiError('sketch_replayed', `this device already sent its sketch for window ${upload.window}`);
  return { devices: result.devices, window: upload.window };
}

/**
 * A rollout step's health record or drift sketch: the "window" is the ticket sequence that names
 * the step, the device must be in the live rollout's challenger range (reporting on the
 * challenger) or control range (on the champion), and it lands in that step's aggregate for its
 * version, once per kind.
 */
async function ingestStep(env: EdgeEnv, req: IngestRequest, layout: SketchLayout, upload: SketchUpload, channel: 'step-health' | 'step-sketches'): Promise<{ devices: number; window: number }> {
  if (!req.rollout) throw new ApiError('bad_request', `a ${channel} upload names its rollout: ?rollout=<id>`);
  const step = await stepOf(env, req.model, req.version, req.device, req.rollout, req.ttlMs);
  if (upload.window !== step.sequence) throw new ApiError('window_closed', `step ${upload.window} of rollout ${req.rollout} is over (the current step is ${step.sequence})`);
  // 'loaded' records (sent when the device starts running the step's version) only count devices
  // for the console's progress; the analysis judges the 'used' records (after some predictions).
  const kind = channel === 'step-sketches' ? 'sketches' : req.phase === 'loaded' ? 'loaded' : 'used';
  const deviceHash = await sha256Hex(utf8(`${req.app.id}:${req.device}:${req.model}:${req.version}:${upload.window}:step${kind === 'used' ? '' : `:${kind}`}`));
  const result = await aggregateStub(env, req.model, req.version, upload.window, stepCohort(req.rollout, kind)).add(layout, deviceHash, upload);
  if (result.devices < 0) throw new ApiError('window_closed', `step ${upload.window} of rollout ${req.rollout} was already analysed`);
  if (!result.accepted) throw new ApiError('sketch_replayed', `this device already sent its ${kind === 'sketches' ? 'sketch' : 'record'} for step ${upload.window}`);
  return { devices: result.devices, window: upload.window };
}
