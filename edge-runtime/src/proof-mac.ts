/**
 * @module proof-mac
 * The MAC of upload proofs (protocol SPEC 11.1; the format is protocol/src/upload-proof.ts). Only
 * the edge computes it. @noble/hashes, not WebCrypto: the ticket route mints a proof per answer,
 * and a synchronous HMAC over ~150 bytes with its pads precomputed costs ~3 µs where an awaited
 * crypto.subtle.sign costs ~50 µs (Node 20); test/bench/provenance.ts measures the route in workerd.
 * proof-mac.test.ts checks the bytes against SPEC 11.1 computed with WebCrypto.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  PROOF_INFO,
  type ProofClaims,
  type ProofSubject,
  proofClaimsText,
  readProof,
  toBase64,
  utf8,
} from '@modelfleet/protocol';

/** The derived key with HMAC's inner and outer pads already absorbed. */
export interface ProofKey {
  readonly mac: (message: Uint8Array) => Uint8Array;
}

const keys = new Map<string, ProofKey>();

/** The proof key, derived from the edge's ticket signing secret once per secret. */
export function proofKey(secret: string): ProofKey {
  let key = keys.get(secret);
  if (!key) {
    const base = hmac.create(sha256, hkdf(sha256, utf8(secret), new Uint8Array(0), utf8(PROOF_INFO), 32));
    key = { mac: (message) => base.clone().update(message).digest() };
    keys.set(secret, key);
  }
  return key;
}

const base64url = (bytes: Uint8Array) => toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const mac = (key: ProofKey, subject: ProofSubject, claims: ProofClaims) =>
  base64url(
    key.mac(utf8(`${PROOF_INFO}\n${subject.app}\n${subject.device}\n${subject.model}\n${proofClaimsText(claims)}`)),
  ).slice(0, 22);

/** The proof string for a subject and claims. */
export function mintProof(key: ProofKey, subject: ProofSubject, claims: ProofClaims): string {
  return `p1.${proofClaimsText(claims)}.${mac(key, subject, claims)}`;
}

/** The claims of a proof whose MAC is right for `subject`; null when it is malformed or not this subject's. */
export function openProof(key: ProofKey, subject: ProofSubject, proof: string): ProofClaims | null {
  const read = readProof(proof);
  if (!read) return null;
  const { mac: given, ...claims } = read;
  const expected = mac(key, subject, claims);
  // Compared in full whatever differs first: timing reveals nothing about the expected MAC.
  let diff = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0 ? claims : null;
}
