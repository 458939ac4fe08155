/**
 * @module limits
 * Publish-time limits, configurable per deployment through wrangler.toml [vars].
 */
import { vars } from '@modelfleet/server-shared';
import { DEFAULT_MAX_CHUNK_BYTES } from '@modelfleet/protocol';
import type { Env } from '../env.ts';

/** The chunk limit is part of the protocol's plan (SPEC 5.1): server and clients share it. */
export const MAX_CHUNK_BYTES = DEFAULT_MAX_CHUNK_BYTES;
export const UPLOAD_TTL_MS = 24 * 3600 * 1000;

export function maxModelBytes(env: Env): number {
  return vars(env).MAX_MODEL_BYTES;
}

/**
 * How long a commit's claim on its upload holds (COMMIT_LEASE_SECONDS, default 300): longer than
 * any commit runs (a Worker's CPU limit ends one first), so only a crashed commit's claim lapses.
 */
export function commitLeaseMs(env: Env): number {
  return vars(env).COMMIT_LEASE_SECONDS * 1000;
}
