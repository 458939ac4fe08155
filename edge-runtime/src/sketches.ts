/**
 * @module sketches
 * Ingest of device feature sketches (docs/architecture.md §7): validate at the edge — app scope, version,
 * monitoring schema, layout, L1, ranges, size, window — then hand the decoded vector to the
 * (model, version, window, cohort) Durable Object, which refuses a second upload per device.
 */
import {
  type SketchChannel,
  type StepPhase,
  type SketchLayout,
  type SketchUpload,
  decodeUpload,
  healthLayout,
  sha256Hex,
  stepCohort,
  uploadSize,
  utf8,
  windowOf,
} from '@modelfleet/protocol';
import { ApiError, activeManifestDigest, aggregateStub, layoutFor, windowSeconds } from '@modelfleet/server-shared';
import type { App } from './apps.ts';
import type { EdgeEnv } from './env.ts';
import { type ProofExpectation, checkProof } from './provenance.ts';
import { controlArm, stepOf } from './tickets.ts';

export type { SketchChannel };

export interface IngestRequest {
  app: App;
  device: string;
  model: string;
  version: number;
  body: ArrayBuffer;
  now: Date;
  ttlMs: number;
  channel?: SketchChannel;
  rollout?: string;
  phase?: StepPhase;
  /** The x-modelfleet-proof header (SPEC 11.1). */
  proof?: string;
  /** The client network's tag and cap (SPEC 11.3); absent = uncapped (direct calls in tests of the aggregate). */
  network?: { tag: string; cap: number };
}

const proven = (env: EdgeEnv, req: IngestRequest, want: ProofExpectation) =>
  checkProof(env, { app: req.app.id, device: req.device, model: req.model }, req.proof, want, req.now);

/** Adds to the aggregate under the network cap; a refusal says which rule refused. */
async function addTo(
  stub: ReturnType<typeof aggregateStub>,
  layout: SketchLayout,
  deviceHash: string,
  upload: SketchUpload,
  req: IngestRequest,
  attested: boolean,
  what: string,
) {
  const source = req.network ? { network: req.network.tag, cap: req.network.cap, attested } : undefined;
  const result = await stub.add(layout, deviceHash, upload, source);
  if (result.devices < 0) throw new ApiError('window_closed', `${what} was already closed and released`);
  if (result.capped)
    throw new ApiError(
      'network_limited',
      `this network already added ${req.network!.cap} unattested devices to ${what}; attested devices are not capped (SPEC 11.3)`,
    );
  if (!result.accepted) throw new ApiError('sketch_replayed', `this device already sent its upload for ${what}`);
  return result;
}

/**
 * The aggregate cohort of an upload: drift sketches go to 'all'; health to 'health', except a
 * rollout's control devices reporting on the champion, which go to 'health-control' (only there,
 * so each device still lands in exactly one aggregate).
 */
export const cohortOf = (channel: SketchChannel, control: string | null = null) =>
  channel === 'health' ? (control ? 'health-control' : 'health') : 'all';

export async function ingestSketch(env: EdgeEnv, req: IngestRequest): Promise<{ devices: number; window: number }> {
  const channel = req.channel ?? 'sketches';
  const digest = await activeManifestDigest(env, req.model, req.version, req.ttlMs);
  const drift = channel === 'sketches' || channel === 'step-sketches'; // against the version's baseline
  const layout = drift ? await layoutFor(env, digest) : await healthLayout();
  if (!layout)
    throw new ApiError(
      'no_baseline',
      `${req.model} v${req.version} was published without a monitoring baseline; nothing to sketch against`,
    );
  if (req.body.byteLength !== uploadSize(layout)) {
    throw new ApiError(
      req.body.byteLength > uploadSize(layout) ? 'payload_too_large' : 'sketch_malformed',
      `an upload for ${req.model} v${req.version} is exactly ${uploadSize(layout)} bytes, got ${req.body.byteLength}`,
    );
  }
  const upload = decodeUpload(layout, new Uint8Array(req.body));
  if (channel === 'step-health' || channel === 'step-sketches') return ingestStep(env, req, layout, upload, channel);
  // SPEC 10.6: windows of the configured length; the current one and the one before (late uploads) are open.
  const seconds = windowSeconds(env);
  const current = windowOf(req.now, seconds);
  if (upload.window > current) {
    throw new ApiError(
      'window_not_started',
      `window ${upload.window} has not started (the current ${seconds}-s window is ${current}); check the device clock, and that it numbers windows by its ticket's windowSeconds`,
    );
  }
  if (upload.window < current - 1) {
    throw new ApiError(
      'window_closed',
      `window ${upload.window} is closed (open: ${current - 1} and ${current}, of ${seconds} s); sketches are sent for the current window`,
    );
  }
  const claims = await proven(env, req, { version: req.version });
  // Salted per window: the aggregate can refuse replays without being able to link a device across windows.
  const deviceHash = await sha256Hex(
    utf8(`${req.app.id}:${req.device}:${req.model}:${req.version}:${upload.window}:${channel}`),
  );
  // The control arm takes devices whose ticket put them there (the proof says so) and whose bucket still does.
  const named = claims.stage === 'control' && claims.rollout === req.rollout ? req.rollout : undefined;
  const control =
    channel === 'health' ? await controlArm(env, req.model, req.version, req.device, named, req.ttlMs) : null;
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
async function ingestStep(
  env: EdgeEnv,
  req: IngestRequest,
  layout: SketchLayout,
  upload: SketchUpload,
  channel: 'step-health' | 'step-sketches',
): Promise<{ devices: number; window: number }> {
  if (!req.rollout) throw new ApiError('bad_request', `a ${channel} upload names its rollout: ?rollout=<id>`);
  const step = await stepOf(env, req.model, req.version, req.device, req.rollout, req.ttlMs);
  if (upload.window !== step.sequence)
    throw new ApiError(
      'window_closed',
      `step ${upload.window} of rollout ${req.rollout} is over (the current step is ${step.sequence})`,
    );
  const claims = await proven(env, req, {
    version: req.version,
    rollout: req.rollout,
    sequence: step.sequence,
    stages: [step.cohort],
  });
  // 'loaded' records (sent when the device starts running the step's version) only count devices
  // for the console's progress; the analysis judges the 'used' records (after some predictions).
  const kind = channel === 'step-sketches' ? 'sketches' : req.phase === 'loaded' ? 'loaded' : 'used';
  const deviceHash = await sha256Hex(
    utf8(
      `${req.app.id}:${req.device}:${req.model}:${req.version}:${upload.window}:step${kind === 'used' ? '' : `:${kind}`}`,
    ),
  );
  const stub = aggregateStub(env, req.model, req.version, upload.window, stepCohort(req.rollout, kind));
  const result = await addTo(
    stub,
    layout,
    deviceHash,
    upload,
    req,
    claims.attested,
    `step ${upload.window} of rollout ${req.rollout} (${kind})`,
  );
  return { devices: result.devices, window: upload.window };
}
