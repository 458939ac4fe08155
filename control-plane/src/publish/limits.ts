/**
 * @module limits
 * Publish-time limits, configurable per deployment through wrangler.toml [vars].
 */
import { numberVar } from '@modelfleet/edge-runtime';
import type { Env } from '../env.ts';

/** Chunk plan parameters; clients must plan with the same values (protocol defaults). */
export const MAX_CHUNK_BYTES = 4 * 2 ** 20;
export const UPLOAD_TTL_MS = 24 * 3600 * 1000;

export function maxModelBytes(env: Env): number {
  return numberVar(env.MAX_MODEL_BYTES, 256 * 2 ** 20);
}
