/**
 * @module testing
 * Fixtures for tests of any runtime: real keys, real signatures (a mock repository that signs
 * with real keys, as tuf-js does). Not for production use.
 */
import { type KeySet, createKeySet, rootFor, signInitialRoot } from './keyset.ts';
import type { Envelope } from './envelope.ts';
import type { Root } from './root.ts';

export interface TestTrust {
  keys: KeySet;
  root: Root;
  rootEnvelope: Envelope;
}

export const inDays = (days: number, from = new Date()) => new Date(from.getTime() + days * 86400_000);

export async function createTestTrust(alg: 'ecdsa-p256-sha256' | 'ed25519' = 'ecdsa-p256-sha256'): Promise<TestTrust> {
  const keys = await createKeySet(alg);
  const expires = inDays(365);
  return { keys, root: rootFor(keys, 1, expires), rootEnvelope: await signInitialRoot(keys, expires) };
}

/** A seeded uniform generator on [0, 1) (mulberry32), for reproducible simulations and tests. */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded uniform 32-bit words (the same mulberry32 stream as `seededUniform`, before scaling),
 * for the discrete Gaussian release noise in reproducible simulations and tests.
 */
export function seededWords(seed: number): () => number {
  const uniform = seededUniform(seed);
  return () => uniform() * 4294967296; // exact: uniform() is a word divided by 2³²
}
