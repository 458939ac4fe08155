/**
 * @module keys
 * Signing keys on WebCrypto: ECDSA P-256 with SHA-256 (default, IEEE-P1363 signatures) or
 * Ed25519. Public keys travel as SPKI, private keys as PKCS#8, both base64; a key's id is the
 * hex SHA-256 of its SPKI bytes, so an id can never be claimed by another key.
 */
import * as z from 'zod/mini';
import { exactBuffer, fromBase64, sha256Hex, toBase64 } from './encoding.ts';
import { ProtocolError } from './errors.ts';

export const KeyAlg = z.enum(['ecdsa-p256-sha256', 'ed25519']);
export type KeyAlg = z.infer<typeof KeyAlg>;

const base64 = () => z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'), z.minLength(1));

/** A public key as listed in a root document. */
export const PublicKey = z.object({ alg: KeyAlg, spki: base64() });
export type PublicKey = z.infer<typeof PublicKey>;

/** A key pair as kept by its holder (a Worker secret, or a file of the operator's). */
export const KeyPairRecord = z.object({
  keyid: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  alg: KeyAlg,
  publicKey: base64(),
  privateKey: base64(),
});
export type KeyPairRecord = z.infer<typeof KeyPairRecord>;

export interface Signer {
  readonly keyid: string;
  readonly alg: KeyAlg;
  sign(bytes: Uint8Array): Promise<Uint8Array>;
}

function importParams(alg: KeyAlg): EcKeyImportParams | Algorithm {
  return alg === 'ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
}

function signParams(alg: KeyAlg): EcdsaParams | Algorithm {
  return alg === 'ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
}

/** @example await keyIdOf(spkiBytes) // '3f2a…' (64 hex) */
export function keyIdOf(spki: Uint8Array): Promise<string> {
  return sha256Hex(spki);
}

/** Generates a key pair; the private half is exported so its holder can store it. */
export async function generateKeyPair(alg: KeyAlg = 'ecdsa-p256-sha256'): Promise<KeyPairRecord> {
  const pair = (await crypto.subtle.generateKey(importParams(alg) as EcKeyGenParams, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey('spki', pair.publicKey)) as ArrayBuffer);
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
  return { keyid: await keyIdOf(spki), alg, publicKey: toBase64(spki), privateKey: toBase64(pkcs8) };
}

export function publicKeyOf(record: KeyPairRecord): PublicKey {
  return { alg: record.alg, spki: record.publicKey };
}

/** A Signer over a stored key pair. The private key is imported non-extractable. */
export async function signerFrom(record: KeyPairRecord): Promise<Signer> {
  const key = await crypto.subtle.importKey(
    'pkcs8',
    exactBuffer(fromBase64(record.privateKey)),
    importParams(record.alg),
    false,
    ['sign'],
  );
  return {
    keyid: record.keyid,
    alg: record.alg,
    async sign(bytes) {
      return new Uint8Array(await crypto.subtle.sign(signParams(record.alg), key, exactBuffer(bytes)));
    },
  };
}

// Verification keys are imported once per isolate/page: roots list few keys and verify often.
const verifyKeys = new Map<string, Promise<CryptoKey>>();

function verifyKeyFor(pub: PublicKey): Promise<CryptoKey> {
  const cacheKey = `${pub.alg}:${pub.spki}`;
  let key = verifyKeys.get(cacheKey);
  if (!key) {
    key = crypto.subtle.importKey('spki', exactBuffer(fromBase64(pub.spki)), importParams(pub.alg), false, ['verify']);
    key.catch(() => verifyKeys.delete(cacheKey));
    verifyKeys.set(cacheKey, key);
  }
  return key;
}

/** True when `sig` is a valid signature of exactly `bytes` under `pub`; never throws on a bad signature. */
export async function verifyBytes(pub: PublicKey, bytes: Uint8Array, sig: Uint8Array): Promise<boolean> {
  let key: CryptoKey;
  try {
    key = await verifyKeyFor(pub);
  } catch (cause) {
    throw new ProtocolError('malformed_document', `public key (${pub.alg}) cannot be imported: ${String(cause)}`);
  }
  try {
    return await crypto.subtle.verify(signParams(pub.alg), key, exactBuffer(sig), exactBuffer(bytes));
  } catch {
    return false; // wrong signature length etc.: a bad signature, not a bug
  }
}

/** Checks that a listed key id really is the digest of the listed key. */
export async function assertKeyId(keyid: string, pub: PublicKey): Promise<void> {
  const actual = await keyIdOf(fromBase64(pub.spki));
  if (actual !== keyid) {
    throw new ProtocolError('malformed_document', `key id ${keyid} does not match its key (digest ${actual})`);
  }
}
