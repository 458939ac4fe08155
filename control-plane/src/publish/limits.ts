/**
 * @module limits
 * Publish-time limits, configurable per deployment through wrangler.toml [vars].
 */
import { numberVar } from '@modelfleet/edge-runtime';
import { DEFAULT_MAX_CHUNK_BYTES } from '@modelfleet/protocol';
import type { Env } from '../env.ts';

/** The chunk limit is part of the protocol's plan (SPEC 5.1): server and clients share it. */
export const MAX_CHUNK_BYTES = DEFAULT_MAX_CHUNK_BYTES;
export const UPLOAD_TTL_MS = 24 * 3600 * 1000;

export function maxModelBytes(env: Env): number {
  return numberVar(env.MAX_MODEL_BYTES, 256 * 2 ** 20);
}
