/**
 * @module tickets
 * Resolves which version a device should run and signs a ticket for it (docs/architecture.md §5, §8): the
 * model's `champion`, or — while a rollout is running or paused — the challenger for devices
 * whose bucket (SHA-256 of salt:device) falls in its range. The control range and the rest stay
 * on the champion; the stage in the ticket says which. Tickets are cached per assignment, not
 * per device: there are at most three per model and sequence.
 */
import {
  DAY_SECONDS,
  type DeviceProfile,
  type Envelope,
  type Signer,
  type Targeting,
  type Ticket,
  bucketOf,
  eligible,
  rolloutCohort,
  signTicket,
} from '@modelfleet/protocol';
import { ApiError, TtlCache, onForgetAssignments, signerFromSecret, windowSeconds } from '@modelfleet/server-shared';
import type { EdgeEnv } from './env.ts';

export interface Assignment {
  model: string;
  version: number;
  manifestDigest: string;
  sequence: number;
  stage: string;
  rollout: {
    id: string;
    salt: string;
    percent: number;
    version: number;
    manifestDigest: string;
    targeting: Targeting | undefined;
  } | null;
}

const assignments = new TtlCache<Assignment>();
const tickets = new TtlCache<SignedTicket>();

/** A signed ticket, its ETag, and the manifest it names (for the bundle, SPEC 1.6). */
export interface SignedTicket {
  envelope: Envelope;
  etag: string;
  manifestDigest: string;
  /** What the ticket assigns, for the device's upload proof (provenance.ts). */
  assignment: {
    version: number;
    stage: 'champion' | 'challenger' | 'control';
    sequence: number;
    rollout: string | null;
  };
}
/**
 * The window length a ticket tells devices (SPEC 10.6), or null when WINDOW_SECONDS is invalid:
 * model delivery never depends on a telemetry setting, so the ticket then goes without it and the
 * telemetry routes refuse with window_length_invalid until the setting is fixed.
 */
function ticketWindowSeconds(env: EdgeEnv): number | null {
  try {
    return windowSeconds(env);
  } catch {
    return null;
  }
}

export function ticketSigner(env: EdgeEnv): Promise<Signer> {
  return signerFromSecret('TICKET_KEY', env.TICKET_KEY);
}

async function loadAssignment(env: EdgeEnv, model: string): Promise<Assignment> {
  const row = await env.DB.prepare(
    `SELECT m.sequence, v.version, v.manifest_digest, v.status, a.name AS alias
       FROM models m
       LEFT JOIN aliases a ON a.model_id = m.id AND a.name = 'champion'
       LEFT JOIN versions v ON v.model_id = m.id AND v.version = a.version
      WHERE m.name = ?`,
  )
    .bind(model)
    .first<{
      sequence: number;
      version: number | null;
      manifest_digest: string | null;
      status: string | null;
      alias: string | null;
    }>();
  if (!row) throw new ApiError('unknown_model', `no model named ${model}`);
  if (row.version === null || row.manifest_digest === null || row.status !== 'active') {
    throw new ApiError(
      'unknown_version',
      `model ${model} has no champion yet; an operator must set the champion alias`,
    );
  }
  const rollout = await env.DB.prepare(
    `SELECT r.id, r.salt, r.percent, r.plan, r.challenger_version AS version, v.manifest_digest AS digest
       FROM rollouts r JOIN models m ON m.id = r.model_id
       JOIN versions v ON v.model_id = r.model_id AND v.version = r.challenger_version AND v.status = 'active'
      WHERE m.name = ? AND r.state IN ('running', 'paused') AND r.percent > 0`,
  )
    .bind(model)
    .first<{ id: string; salt: string; percent: number; plan: string; version: number; digest: string }>();
  return {
    model,
    version: row.version,
    manifestDigest: row.manifest_digest,
    sequence: row.sequence,
    stage: 'champion',
    rollout: rollout
      ? {
          id: rollout.id,
          salt: rollout.salt,
          percent: rollout.percent,
          version: rollout.version,
          manifestDigest: rollout.digest,
          targeting: (JSON.parse(rollout.plan) as { targeting?: Targeting }).targeting,
        }
      : null,
  };
}

/** Which version this device runs now, and as what stage; devices outside the targeting stay on the champion. */
async function resolve(
  a: Assignment,
  device: string,
  profile: DeviceProfile,
): Promise<{
  version: number;
  manifestDigest: string;
  stage: 'champion' | 'challenger' | 'control';
  rolloutId: string | null;
}> {
  if (!a.rollout || !eligible(a.rollout.targeting, profile))
    return { version: a.version, manifestDigest: a.manifestDigest, stage: 'champion', rolloutId: null };
  const cohort = rolloutCohort(await bucketOf(a.rollout.salt, device), a.rollout.percent);
  return cohort === 'challenger'
    ? {
        version: a.rollout.version,
        manifestDigest: a.rollout.manifestDigest,
        stage: 'challenger',
        rolloutId: a.rollout.id,
      }
    : {
        version: a.version,
        manifestDigest: a.manifestDigest,
        stage: cohort === 'control' ? 'control' : 'champion',
        rolloutId: a.rollout.id,
      };
}

/** The signed ticket for a device, reused within the cache TTL (signing is the costly part). */
export async function ticketFor(
  env: EdgeEnv,
  model: string,
  device: string,
  ttlMs: number,
  ticketTtlSeconds: number,
  profile: DeviceProfile = {},
): Promise<SignedTicket> {
  const now = Date.now();
  const a = await assignments.get(model, ttlMs, now, () => loadAssignment(env, model));
  const r = await resolve(a, device, profile);
  const key = `${a.model}|${r.version}|${a.sequence}|${r.stage}|${r.rolloutId}`;
  const seconds = ticketWindowSeconds(env);
  return tickets.get(key, ttlMs, now, async () => {
    const ticket: Ticket = {
      type: 'modelfleet/ticket',
      specVersion: 1,
      model: a.model,
      version: r.version,
      manifestDigest: r.manifestDigest,
      rolloutId: r.rolloutId,
      stage: r.stage,
      sequence: a.sequence,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ticketTtlSeconds * 1000).toISOString(),
      ...(seconds !== null ? { windowSeconds: seconds } : {}),
    };
    const envelope = await signTicket(ticket, await ticketSigner(env));
    return {
      // A window length other than the day's is in the ETag: a device polling with If-None-Match learns of a change.
      envelope,
      etag: `W/"${a.sequence}-${r.version}-${r.manifestDigest.slice(0, 16)}-${r.stage}${seconds === DAY_SECONDS ? '' : `-w${seconds ?? 0}`}"`,
      manifestDigest: r.manifestDigest,
      assignment: { version: r.version, stage: r.stage, sequence: a.sequence, rollout: r.rolloutId },
    };
  });
}

/**
 * The live rollout's control range, for health ingest: a device in it that reports on the
 * champion version is counted in the control arm (a disjoint set of devices, so it costs no extra
 * privacy budget). The device names the rollout only when its ticket put it in the control range,
 * which the edge gave only to devices the targeting admits: the control arm then holds eligible
 * devices, like the challenger arm. Null when no rollout is live, none is named, or out of range.
 */
export async function controlArm(
  env: EdgeEnv,
  model: string,
  version: number,
  device: string,
  named: string | undefined,
  ttlMs: number,
): Promise<string | null> {
  if (!named) return null;
  const a = await assignments.get(model, ttlMs, Date.now(), () => loadAssignment(env, model)).catch(() => null);
  if (!a?.rollout || a.rollout.id !== named || version !== a.version) return null;
  return rolloutCohort(await bucketOf(a.rollout.salt, device), a.rollout.percent) === 'control' ? a.rollout.id : null;
}

/** Where a step-health record belongs: the live rollout's current step, in the device's range. */
export async function stepOf(
  env: EdgeEnv,
  model: string,
  version: number,
  device: string,
  rolloutId: string,
  ttlMs: number,
): Promise<{ sequence: number; cohort: 'challenger' | 'control' }> {
  const a = await assignments.get(model, ttlMs, Date.now(), () => loadAssignment(env, model));
  if (!a.rollout || a.rollout.id !== rolloutId)
    throw new ApiError('window_closed', `rollout ${rolloutId} of ${model} is not running`);
  const cohort = rolloutCohort(await bucketOf(a.rollout.salt, device), a.rollout.percent);
  if (cohort === 'challenger' && version === a.rollout.version) return { sequence: a.sequence, cohort };
  if (cohort === 'control' && version === a.version) return { sequence: a.sequence, cohort };
  throw new ApiError(
    'bad_request',
    `this device is not in rollout ${rolloutId}'s ${version === a.rollout.version ? 'challenger' : 'control'} range for v${version}`,
  );
}

// server-shared's forgetAssignments clears these: the control plane calls it after it moves an
// alias in the same isolate, without reaching into the edge.
onForgetAssignments(() => {
  assignments.clear();
  tickets.clear();
});
