/**
 * @module provenance
 * Where a telemetry upload comes from (SPEC §11): the proof the ticket route hands each device,
 * checked on every upload; the attestation that lifts a device out of its network's cap; and the
 * network tag and cap the aggregate enforces. See protocol/src/upload-proof.ts for the format.
 */
import { type ProofClaims, type ProofSubject, PROOF_VALID_DAYS, toHex, utf8, windowOf } from '@modelfleet/protocol';
import { type ProofKey, mintProof, openProof, proofKey } from './proof-mac.ts';
import { ApiError, VAR_DEFAULTS, vars } from '@modelfleet/server-shared';
import type { EdgeEnv } from './env.ts';
import { clientAddress, networkPrefix } from './networks.ts';

/** Distinct unattested devices one network may add to one aggregate (model, version, window, cohort). */
export const DEFAULT_NETWORK_DEVICE_CAP = VAR_DEFAULTS.NETWORK_DEVICE_CAP;

function keyOf(env: EdgeEnv): ProofKey {
  if (!env.TICKET_KEY)
    throw new ApiError('signing_key_missing', 'the TICKET_KEY secret is not configured; run `modelfleet keys init`');
  return proofKey(env.TICKET_KEY);
}

/** The proof for a ticket just issued to `subject`. */
export async function issueProof(
  env: EdgeEnv,
  subject: ProofSubject,
  claims: Omit<ProofClaims, 'day'>,
  now = new Date(),
): Promise<string> {
  return mintProof(keyOf(env), subject, { ...claims, day: windowOf(now) });
}

/** What an upload must match in its proof: always the version; for a rollout step also the rollout, step and range. */
export interface ProofExpectation {
  version: number;
  rollout?: string;
  sequence?: number;
  stages?: ProofClaims['stage'][];
}

/**
 * The claims of the upload's proof, after checking its MAC for this app, device and model, its age
 * and what it was issued for. `UPLOAD_PROOF=off` (a fleet whose SDKs predate proofs) skips the
 * check and counts the upload as unattested.
 */
export async function checkProof(
  env: EdgeEnv,
  subject: ProofSubject,
  proof: string | undefined,
  want: ProofExpectation,
  now: Date,
): Promise<ProofClaims> {
  if (vars(env).UPLOAD_PROOF === 'off')
    return {
      day: windowOf(now),
      version: want.version,
      stage: 'champion',
      sequence: 0,
      rollout: null,
      attested: false,
    };
  if (!proof)
    throw new ApiError(
      'proof_required',
      "send the x-modelfleet-proof header the ticket route returned with this version's ticket (SPEC 11.1)",
    );
  const claims = proof.length <= 128 ? openProof(keyOf(env), subject, proof) : null;
  if (!claims)
    throw new ApiError('proof_invalid', 'the proof was not issued by this edge for this app, device and model');
  const today = windowOf(now);
  if (claims.day > today || claims.day <= today - PROOF_VALID_DAYS)
    throw new ApiError(
      'proof_invalid',
      `the proof was issued on day ${claims.day}; fetch a ticket for a fresh one (valid ${PROOF_VALID_DAYS} days)`,
    );
  if (claims.version !== want.version)
    throw new ApiError('proof_invalid', `the proof is for v${claims.version}, the upload for v${want.version}`);
  if (
    want.rollout !== undefined &&
    (claims.rollout !== want.rollout || claims.sequence !== want.sequence || !want.stages?.includes(claims.stage))
  ) {
    throw new ApiError(
      'proof_invalid',
      `the proof is for ${claims.rollout ?? 'no rollout'} step ${claims.sequence} as ${claims.stage}, not this step's ${want.stages?.join(' or ')} range`,
    );
  }
  return claims;
}

/** The network an upload comes from (a keyed digest of its prefix) and the cap on its unattested devices. */
export async function networkOf(env: EdgeEnv, headers: Headers): Promise<{ tag: string; cap: number }> {
  const prefix = networkPrefix(clientAddress(headers));
  const mac = keyOf(env).mac(utf8(`modelfleet/network/v1\n${prefix}`));
  return { tag: toHex(mac.subarray(0, 12)), cap: vars(env).NETWORK_DEVICE_CAP };
}

/**
 * A device's attestation (`turnstile:<token>`), verified with the provider. Turnstile is verified
 * when TURNSTILE_SECRET is set (its siteverify URL may be overridden, which tests do to fake the
 * provider at the network edge). False when absent or refused; never throws into the ticket route,
 * since delivery of the model must not depend on it.
 */
export async function attested(env: EdgeEnv, header: string | undefined, headers: Headers): Promise<boolean> {
  if (!header || header.length > 4096) return false;
  const [provider, token] = [header.slice(0, header.indexOf(':')), header.slice(header.indexOf(':') + 1)];
  if (provider !== 'turnstile' || !token || !env.TURNSTILE_SECRET) return false;
  try {
    const form = new FormData();
    form.set('secret', env.TURNSTILE_SECRET);
    form.set('response', token);
    const ip = clientAddress(headers);
    if (ip) form.set('remoteip', ip);
    const res = await fetch(vars(env).TURNSTILE_VERIFY_URL, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { success?: unknown };
    return res.ok && body.success === true;
  } catch (e) {
    console.warn('attestation: verification failed', String(e));
    return false;
  }
}
