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

export { boxMuller, seededUniform, seededWords } from './random.ts';
