/**
 * @module sketches
 * Ingest of device feature sketches (docs/architecture.md §7): validate at the edge — app scope, version,
 * monitoring schema, layout, L1, ranges, size, window — then hand the decoded vector to the
 * (model, version, window, cohort) Durable Object, which refuses a second upload per device.
 */
import {
  type ErrorCode, type SketchChannel, type StepPhase, type SketchLayout, type SketchUpload, decodeUpload, healthLayout, manifestDigest, parseEnvelope, parseManifest, fromBase64, sha256Hex, sketchLayout, stepCohort, uploadSize, utf8, windowOf,
} from '@modelfleet/protocol';
import type { App } from './apps.ts';
import { type EdgeEnv, r2Key, windowSeconds } from './env.ts';
import { ApiError } from './http-error.ts';
import { type ProofExpectation, checkProof } from './provenance.ts';
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

export type { SketchChannel };

/**
 * Every coded refusal of a telemetry upload, with when it happens and which channels can give it
 * (none listed: all four). The OpenAPI document (control-plane routes/edge-docs.ts) and SPEC 10.7
 * list these; test/registry/telemetry-spec.test.ts checks that the codes a client really gets are
 * the documented ones.
 */
export const UPLOAD_ERRORS: { code: ErrorCode; when: string; channels?: SketchChannel[] }[] = [
  { code: 'bad_request', when: 'device key missing or not 1–128 of A-Z a-z 0-9 . _ : -; version not a positive integer; phase on a channel other than step-health or not loaded/used; rollout not a rollout id' },
  { code: 'bad_request', when: 'no ?rollout=, or the device is not in the rollout\'s challenger range (for the rollout\'s version) or control range (for the champion)', channels: ['step-health', 'step-sketches'] },
  { code: 'sketch_malformed', when: 'body shorter than the layout needs; bad magic or layout version; feature count differs from the layout; no feature present' },
  { code: 'app_key_invalid', when: 'x-modelfleet-app-key header missing or unknown' },
  { code: 'model_not_in_app', when: 'the app may not fetch this model' },
  { code: 'unknown_model', when: 'no model of that name' },
  { code: 'unknown_version', when: 'the version is not an active (served) version of the model' },
  { code: 'sketch_replayed', when: 'this device already uploaded for this (model, version, window, channel; phase for step-health)' },
  { code: 'payload_too_large', when: 'Content-Length or body over 65536 bytes, or body longer than the layout needs' },
  { code: 'unsupported_media_type', when: 'Content-Type is not application/octet-stream' },
  { code: 'sketch_schema_mismatch', when: 'the upload\'s schema digest is not the layout\'s (sketched against another baseline)' },
  { code: 'sketch_not_normalized', when: 'a present feature\'s bins do not sum to exactly 4096' },
  { code: 'sketch_out_of_range', when: 'a component outside [−16384, 16384], or an absent feature (bins all 0) with a non-zero component' },
  { code: 'no_baseline', when: 'the version was published without a monitoring baseline', channels: ['sketches', 'step-sketches'] },
  { code: 'window_closed', when: 'window is older than the one before the current (windows of WINDOW_SECONDS, default a UTC day), or was already closed and released', channels: ['sketches', 'health'] },
  { code: 'window_not_started', when: 'window is after the current one (the device clock is ahead, or it numbers windows by another length than its ticket\'s windowSeconds)', channels: ['sketches', 'health'] },
  { code: 'window_closed', when: 'the rollout is not running, the window is not the current step\'s sequence, or the step was already analysed', channels: ['step-health', 'step-sketches'] },
  { code: 'proof_required', when: 'no x-modelfleet-proof header (the proof returned with the ticket for this version)' },
  { code: 'proof_invalid', when: 'the proof is not this edge\'s for this app, device and model; it is for another version; it is older than 3 days; or, for a step, it names another rollout, step or range' },
  { code: 'network_limited', when: 'the client network already added its cap of unattested devices to this aggregate (NETWORK_DEVICE_CAP, default 4)' },
  { code: 'rate_limited', when: 'too many requests from this device' },
  { code: 'internal', when: 'server fault; nothing was counted, retry later' },
  { code: 'window_length_invalid', when: 'the server\'s WINDOW_SECONDS is not a window length (at least 10 s, dividing 86400); nothing was counted, retry later', channels: ['sketches', 'health'] },
];

export interface IngestRequest {
  app: App; device: string; model: string; version: number; body: ArrayBuffer; now: Date; ttlMs: number; channel?: SketchChannel; rollout?: string; phase?: StepPhase;
  /** The x-modelfleet-proof header (SPEC 11.1). */
  proof?: string;
  /** The client network's tag and cap (SPEC 11.3); absent = uncapped (direct calls in tests of the aggregate). */
  network?: { tag: string; cap: number };
}

const proven = (env: EdgeEnv, req: IngestRequest, want: ProofExpectation) => checkProof(env, { app: req.app.id, device: req.device, model: req.model }, req.proof, want, req.now);

/** Adds to the aggregate under the network cap; a refusal says which rule refused. */
async function addTo(stub: ReturnType<typeof aggregateStub>, layout: SketchLayout, deviceHash: string, upload: SketchUpload, req: IngestRequest, attested: boolean, what: string) {
  const source = req.network ? { network: req.network.tag, cap: req.network.cap, attested } : undefined;
  const result = await stub.add(layout, deviceHash, upload, source);
  if (result.devices < 0) throw new ApiError('window_closed', `${what} was already closed and released`);
  if (result.capped) throw new ApiError('network_limited', `this network already added ${req.network!.cap} unattested devices to ${what}; attested devices are not capped (SPEC 11.3)`);
  if (!result.accepted) throw new ApiError('sketch_replayed', `this device already sent its upload for ${what}`);
  return result;
}

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
  // SPEC 10.6: windows of the configured length; the current one and the one before (late uploads) are open.
  const seconds = windowSeconds(env);
  const current = windowOf(req.now, seconds);
  if (upload.window > current) {
    throw new ApiError('window_not_started', `window ${upload.window} has not started (the current ${seconds}-s window is ${current}); check the device clock, and that it numbers windows by its ticket's windowSeconds`);
  }
  if (upload.window < current - 1) {
    throw new ApiError('window_closed', `window ${upload.window} is closed (open: ${current - 1} and ${current}, of ${seconds} s); sketches are sent for the current window`);
  }
  const claims = await proven(env, req, { version: req.version });
  // Salted per window: the aggregate can refuse replays without being able to link a device across windows.
  const deviceHash = await sha256Hex(utf8(`${req.app.id}:${req.device}:${req.model}:${req.version}:${upload.window}:${channel}`));
  // The control arm takes devices whose ticket put them there (the proof says so) and whose bucket still does.
  const named = claims.stage === 'control' && claims.rollout === req.rollout ? req.rollout : undefined;
  const control = channel === 'health' ? await controlArm(env, req.model, req.version, req.device, named, req.ttlMs) : null;
  const stub = aggregateStub(env, req.model, req.version, upload.window, cohortOf(channel, control));
  const result = await addTo(stub, layout, deviceHash, upload, req, claims.attested, `window ${upload.window}`);
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
  const claims = await proven(env, req, { version: req.version, rollout: req.rollout, sequence: step.sequence, stages: [step.cohort] });
  // 'loaded' records (sent when the device starts running the step's version) only count devices
  // for the console's progress; the analysis judges the 'used' records (after some predictions).
  const kind = channel === 'step-sketches' ? 'sketches' : req.phase === 'loaded' ? 'loaded' : 'used';
  const deviceHash = await sha256Hex(utf8(`${req.app.id}:${req.device}:${req.model}:${req.version}:${upload.window}:step${kind === 'used' ? '' : `:${kind}`}`));
  const stub = aggregateStub(env, req.model, req.version, upload.window, stepCohort(req.rollout, kind));
  const result = await addTo(stub, layout, deviceHash, upload, req, claims.attested, `step ${upload.window} of rollout ${req.rollout} (${kind})`);
  return { devices: result.devices, window: upload.window };
}
