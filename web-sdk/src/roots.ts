/**
 * @module roots
 * SPEC 1.1–1.2 on the device: the pinned root, the chain of rotations stored after earlier
 * syncs, then the newer roots the edge sends. Verification runs while the ticket request travels;
 * only the version the device claims to know goes out with it, and nothing is trusted before it
 * verifies.
 */
import { type Envelope, type Root, fromBase64, payloadJson, updateRoot, verifyPinnedRoot } from '@modelfleet/protocol';
import type { ModelStore } from './store.ts';

const versionOf = (e: Envelope) => (payloadJson(fromBase64(e.payload), 'root') as { version: number }).version;

/** The newest root version this device has stored (unverified: it only tells the edge what to send). */
export async function knownRootVersion(trustRoot: Envelope, store: ModelStore): Promise<number> {
  return Math.max(versionOf(trustRoot), ...(await store.roots()).map(versionOf));
}

/** The pinned root and the stored chain after it, verified (expiry is checked on the newest, in `acceptRoots`). */
export async function knownRoot(trustRoot: Envelope, store: ModelStore): Promise<Root> {
  const pinned = await verifyPinnedRoot(trustRoot);
  const stored = (await store.roots())
    .filter((e) => versionOf(e) > pinned.version)
    .sort((a, b) => versionOf(a) - versionOf(b));
  return stored.length > 0 ? updateRoot(pinned, stored, new Date(0)) : pinned;
}

/** Verifies `newer` in order on top of `known`, checks the newest is not expired, and stores the chain. */
export async function acceptRoots(store: ModelStore, known: Root, newer: Envelope[], now: Date): Promise<Root> {
  const root = await updateRoot(known, newer, now);
  for (const [i, envelope] of newer.entries()) await store.putRoot(known.version + i + 1, envelope);
  return root;
}
