/**
 * @module upload-proof
 * Telemetry bound to what the edge issued (SPEC §11). With every ticket the edge returns, in the
 * `x-modelfleet-proof` header, a MAC over the app, the device key and the ticket's assignment
 * (version, stage, rollout, sequence) and the UTC day it was issued. Every telemetry upload carries
 * the latest proof of that version; the edge recomputes the MAC and refuses an upload without one,
 * with another device's, another version's, or (for a rollout step) another step's or range's.
 *
 * What this buys: a forged upload must first have asked the edge for a ticket as that device, from
 * its network — so per-network caps and attestation (edge-runtime/src/networks.ts,
 * attestation.ts) see every identity an attacker invents, and nobody can claim a rollout range
 * the edge did not assign. The key is derived from the ticket signing secret (HKDF), so no new
 * secret has to be provisioned; the MAC is truncated to 128 bits. Only the edge computes MACs
 * (edge-runtime/src/proof-mac.ts); a device reads its claims (readProof) and sends the proof back.
 *
 *   proof = "p1." day "." version "." stage "." sequence "." (rollout | "-") "." (0 | 1) "." mac
 *   mac   = base64url(HMAC-SHA256(key, "modelfleet/upload-proof/v1\n" app "\n" device "\n" model "\n" claims))[0..22]
 *   key   = HKDF-SHA256(ikm = utf8(ticket secret), salt = "", info = "modelfleet/upload-proof/v1"), 256 bits
 */

export const PROOF_HEADER = 'x-modelfleet-proof';
/** A device's attestation for the ticket request: `<provider>:<token>` (SPEC 11.4). */
export const ATTESTATION_HEADER = 'x-modelfleet-attestation';
/** A proof stays valid for uploads on the day it was issued and the two after (the ticket's life plus the late window). */
export const PROOF_VALID_DAYS = 3;

export const PROOF_STAGES = ['champion', 'challenger', 'control'] as const;
export type ProofStage = (typeof PROOF_STAGES)[number];

export interface ProofClaims {
  /** UTC day of issue (days since the epoch, like sketch windows). */
  day: number;
  version: number;
  stage: ProofStage;
  /** The ticket sequence: a rollout step's window. */
  sequence: number;
  rollout: string | null;
  /** The device passed attestation when this proof was issued. */
  attested: boolean;
}

export interface ProofSubject {
  app: string;
  device: string;
  model: string;
}

/** The MAC's domain string and the HKDF info (SPEC 11.1). */
export const PROOF_INFO = 'modelfleet/upload-proof/v1';
const PATTERN =
  /^p1\.(\d{1,6})\.(\d{1,9})\.(champion|challenger|control)\.(\d{1,12})\.(ro_[0-9a-f]{16}|-)\.([01])\.([A-Za-z0-9_-]{22})$/;

/** The claims as they appear in a proof and under its MAC. */
export const proofClaimsText = (c: ProofClaims) =>
  `${c.day}.${c.version}.${c.stage}.${c.sequence}.${c.rollout ?? '-'}.${c.attested ? 1 : 0}`;

/** A proof's claims as written, MAC unchecked (what a device reads from its own proof); null when malformed. */
export function readProof(proof: string): (ProofClaims & { mac: string }) | null {
  const m = PATTERN.exec(proof);
  if (!m) return null;
  return {
    day: Number(m[1]),
    version: Number(m[2]),
    stage: m[3] as ProofStage,
    sequence: Number(m[4]),
    rollout: m[5] === '-' ? null : m[5]!,
    attested: m[6] === '1',
    mac: m[7]!,
  };
}
