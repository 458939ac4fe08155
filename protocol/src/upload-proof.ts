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
 * secret has to be provisioned; the MAC is truncated to 128 bits.
 *
 *   proof = "p1." day "." version "." stage "." sequence "." (rollout | "-") "." (0 | 1) "." mac
 *   mac   = base64url(HMAC-SHA256(key, "modelfleet/upload-proof/v1\n" app "\n" device "\n" model "\n" claims))[0..22]
 *   key   = HKDF-SHA256(ikm = utf8(ticket secret), salt = "", info = "modelfleet/upload-proof/v1"), 256 bits
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from './encoding.ts';

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

export interface ProofSubject { app: string; device: string; model: string }

const INFO = 'modelfleet/upload-proof/v1';
const PATTERN = /^p1\.(\d{1,6})\.(\d{1,9})\.(champion|challenger|control)\.(\d{1,12})\.(ro_[0-9a-f]{16}|-)\.([01])\.([A-Za-z0-9_-]{22})$/;

/**
 * The derived key with HMAC's inner and outer pads already absorbed. @noble/hashes, not WebCrypto:
 * the ticket route mints a proof per answer, and a synchronous HMAC over ~150 bytes costs ~3 µs
 * where an awaited crypto.subtle.sign costs ~50 µs (Node 20; test/bench/provenance.ts measures the
 * route in workerd). upload-proof.test.ts checks it against SPEC 11.1 computed with WebCrypto.
 */
export interface ProofKey { readonly mac: (message: Uint8Array) => Uint8Array }

const keys = new Map<string, ProofKey>();

/** The proof key, derived from the edge's ticket signing secret once per secret. */
export async function proofKey(secret: string): Promise<ProofKey> {
  let key = keys.get(secret);
  if (!key) {
    const derived = hkdf(sha256, utf8(secret), new Uint8Array(0), utf8(INFO), 32);
    const base = hmac.create(sha256, derived);
    key = { mac: (message) => base.clone().update(message).digest() };
    keys.set(secret, key);
  }
  return key;
}

const claimsText = (c: ProofClaims) => `${c.day}.${c.version}.${c.stage}.${c.sequence}.${c.rollout ?? '-'}.${c.attested ? 1 : 0}`;

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function mac(key: ProofKey, subject: ProofSubject, claims: ProofClaims): string {
  return base64url(key.mac(utf8(`${INFO}\n${subject.app}\n${subject.device}\n${subject.model}\n${claimsText(claims)}`))).slice(0, 22);
}

/** The proof string for a subject and claims. */
export async function mintProof(key: ProofKey, subject: ProofSubject, claims: ProofClaims): Promise<string> {
  return `p1.${claimsText(claims)}.${mac(key, subject, claims)}`;
}

/** A proof's claims as written, MAC unchecked (what a device reads from its own proof); null when malformed. */
export function readProof(proof: string): (ProofClaims & { mac: string }) | null {
  const m = PATTERN.exec(proof);
  if (!m) return null;
  return {
    day: Number(m[1]), version: Number(m[2]), stage: m[3] as ProofStage, sequence: Number(m[4]),
    rollout: m[5] === '-' ? null : m[5]!, attested: m[6] === '1', mac: m[7]!,
  };
}

/** The claims of a proof whose MAC is right for `subject`; null when it is malformed or not this subject's. */
export async function openProof(key: ProofKey, subject: ProofSubject, proof: string): Promise<ProofClaims | null> {
  const read = readProof(proof);
  if (!read) return null;
  const { mac: given, ...claims } = read;
  const expected = mac(key, subject, claims);
  // Compared as strings of equal length; the MAC is over the claims, so a timing leak reveals
  // at most a prefix of the MAC of claims the caller chose — useless without the key.
  let diff = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0 ? claims : null;
}
