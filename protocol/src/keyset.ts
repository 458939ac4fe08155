/**
 * @module keyset
 * The keys of one deployment and the root document that lists them. `modelfleet keys init`
 * creates a key set; `keys rotate-root` replaces the root keys and signs the next root with
 * both the old and the new ones (SPEC 1.1).
 */
import type { Envelope } from './envelope.ts';
import { type KeyAlg, type KeyPairRecord, generateKeyPair, publicKeyOf, signerFrom } from './keys.ts';
import { type Root, signRoot } from './root.ts';

export interface KeySet {
  root: KeyPairRecord[];
  /** Online release key(s): index 0 is the one the Worker holds. */
  release: KeyPairRecord[];
  ticket: KeyPairRecord[];
  thresholds?: { root?: number; release?: number; ticket?: number };
}

export const DEFAULT_ROOT_LIFETIME_DAYS = 365;

export async function createKeySet(alg: KeyAlg = 'ecdsa-p256-sha256'): Promise<KeySet> {
  const [root, release, ticket] = await Promise.all([generateKeyPair(alg), generateKeyPair(alg), generateKeyPair(alg)]);
  return { root: [root], release: [release], ticket: [ticket] };
}

/** The root document listing a key set's public keys. */
export function rootFor(keys: KeySet, version: number, expiresAt: Date): Root {
  const all = [...keys.root, ...keys.release, ...keys.ticket];
  const role = (list: KeyPairRecord[], threshold = 1) => ({ keyids: list.map((k) => k.keyid), threshold });
  return {
    type: 'modelfleet/root',
    specVersion: 1,
    version,
    expiresAt: expiresAt.toISOString(),
    keys: Object.fromEntries(all.map((k) => [k.keyid, publicKeyOf(k)])),
    roles: {
      root: role(keys.root, keys.thresholds?.root),
      release: role(keys.release, keys.thresholds?.release),
      ticket: role(keys.ticket, keys.thresholds?.ticket),
    },
  };
}

/** Signs root v1 with its own root keys. */
export async function signInitialRoot(keys: KeySet, expiresAt: Date): Promise<Envelope> {
  return signRoot(rootFor(keys, 1, expiresAt), await Promise.all(keys.root.map(signerFrom)));
}

/** Signs root `previous.version + 1` for `next` with the previous root keys and the new ones. */
export async function signRotatedRoot(
  previousRootKeys: KeyPairRecord[],
  previousVersion: number,
  next: KeySet,
  expiresAt: Date,
): Promise<Envelope> {
  const signers = await Promise.all([...previousRootKeys, ...next.root].map(signerFrom));
  return signRoot(rootFor(next, previousVersion + 1, expiresAt), signers);
}

/**
 * The next root after `previous`: same release and ticket keys, root role replaced by
 * `newRootKeys`. Sign it with the previous root keys and the new ones (SPEC 1.1).
 */
export function nextRoot(previous: Root, newRootKeys: KeyPairRecord[], expiresAt: Date, rootThreshold = 1): Root {
  const kept = new Set([...previous.roles.release.keyids, ...previous.roles.ticket.keyids]);
  const keys = Object.fromEntries(Object.entries(previous.keys).filter(([id]) => kept.has(id)));
  for (const k of newRootKeys) keys[k.keyid] = publicKeyOf(k);
  return {
    ...previous,
    version: previous.version + 1,
    expiresAt: expiresAt.toISOString(),
    keys,
    roles: { ...previous.roles, root: { keyids: newRootKeys.map((k) => k.keyid), threshold: rootThreshold } },
  };
}
