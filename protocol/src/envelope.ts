/**
 * @module envelope
 * DSSE envelopes (github.com/secure-systems-lab/dsse): the exact payload bytes, base64, plus
 * signatures over PAE(payloadType, payload). Verify the bytes, then parse them (SPEC §0).
 */
import * as z from 'zod/mini';
import { fromBase64, fromUtf8, toBase64, utf8 } from './encoding.ts';
import { ProtocolError, parseOrThrow } from './errors.ts';
import { type PublicKey, type Signer, verifyBytes } from './keys.ts';

export const PAYLOAD_TYPES = {
  root: 'application/vnd.modelfleet.root+json',
  manifest: 'application/vnd.modelfleet.manifest+json',
  ticket: 'application/vnd.modelfleet.ticket+json',
} as const;

export const Envelope = z.object({
  payloadType: z.string().check(z.minLength(1)),
  payload: z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')),
  signatures: z
    .array(z.object({ keyid: z.string().check(z.minLength(1)), sig: z.string().check(z.minLength(1)) }))
    .check(z.minLength(1), z.maxLength(16)),
});
export type Envelope = z.infer<typeof Envelope>;

/** A role from a root document: which keys may sign, and how many must. */
export interface RoleKeys {
  keyids: string[];
  threshold: number;
}

/** DSSE pre-authentication encoding: binds the payload type into what is signed. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  const head = utf8(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** Signs `payload` with every signer; the envelope carries the bytes exactly as given. */
export async function signEnvelope(payloadType: string, payload: Uint8Array, signers: Signer[]): Promise<Envelope> {
  const message = pae(payloadType, payload);
  const signatures = await Promise.all(
    signers.map(async (s) => ({ keyid: s.keyid, sig: toBase64(await s.sign(message)) })),
  );
  return { payloadType, payload: toBase64(payload), signatures };
}

/** Adds signatures (e.g. an offline release key) without touching the payload bytes. */
export async function addSignatures(envelope: Envelope, signers: Signer[]): Promise<Envelope> {
  const message = pae(envelope.payloadType, fromBase64(envelope.payload));
  const more = await Promise.all(signers.map(async (s) => ({ keyid: s.keyid, sig: toBase64(await s.sign(message)) })));
  return { ...envelope, signatures: [...envelope.signatures, ...more] };
}

export function parseEnvelope(bytesOrText: Uint8Array | string, what: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytesOrText === 'string' ? bytesOrText : fromUtf8(bytesOrText));
  } catch {
    throw new ProtocolError('malformed_document', `${what} is not JSON`);
  }
  return parseOrThrow(Envelope, value, what);
}

/**
 * Verifies that at least `role.threshold` distinct keys of the role signed the envelope and
 * returns the payload bytes. Signatures by keys outside the role are ignored (TUF 5.3.4).
 */
export async function verifyEnvelope(
  envelope: Envelope,
  expectedType: string,
  keys: Record<string, PublicKey>,
  role: RoleKeys,
  what: string,
): Promise<Uint8Array> {
  if (envelope.payloadType !== expectedType) {
    throw new ProtocolError(
      'malformed_document',
      `${what} has payload type ${envelope.payloadType}, expected ${expectedType}`,
    );
  }
  const payload = fromBase64(envelope.payload);
  const message = pae(envelope.payloadType, payload);
  const valid = new Set<string>();
  let roleSignatures = 0;
  for (const { keyid, sig } of envelope.signatures) {
    const key = keys[keyid];
    if (!role.keyids.includes(keyid) || !key || valid.has(keyid)) continue;
    roleSignatures++;
    let sigBytes: Uint8Array;
    try {
      sigBytes = fromBase64(sig);
    } catch {
      continue;
    }
    if (await verifyBytes(key, message, sigBytes)) valid.add(keyid);
  }
  if (valid.size >= role.threshold) return payload;
  if (roleSignatures === 0) {
    throw new ProtocolError(
      'unknown_key',
      `${what} is not signed by any key of its role (expected one of ${role.keyids.join(', ')})`,
    );
  }
  if (valid.size < roleSignatures) {
    throw new ProtocolError(
      'bad_signature',
      `${what} carries a signature that does not verify: the bytes were changed or signed by another key`,
    );
  }
  throw new ProtocolError(
    'threshold_not_met',
    `${what} has ${valid.size} valid signature(s); its role needs ${role.threshold}`,
  );
}

/** Parses JSON payload bytes after verification. */
export function payloadJson(payload: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(fromUtf8(payload));
  } catch {
    throw new ProtocolError('malformed_document', `${what} payload is not UTF-8 JSON`);
  }
}
