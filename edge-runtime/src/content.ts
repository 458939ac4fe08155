/**
 * @module content
 * Content-addressed reads: manifests and chunks by SHA-256. Immutable, so they are cached for a
 * year; ETag is the digest; Range requests let a device resume a large chunk (SPEC 5.4). Nothing
 * leaves unverified (server-shared integrity.ts): stored bytes that no longer hash to their digest are answered
 * with a 503 `content_corrupt`, uncached, and counted.
 */
import { DIGEST_PATTERN } from '@modelfleet/protocol';
import {
  ApiError,
  TtlCache,
  Verdicts,
  corruptError,
  isIntact,
  r2Key,
  recordFault,
  vars,
} from '@modelfleet/server-shared';
import type { EdgeEnv } from './env.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
const servable = new TtlCache<boolean>();
const verdicts = new Verdicts();
/** How long an isolate trusts a verified stored version before hashing it again (bit rot in place). */
const verifyTtl = (env: EdgeEnv) => vars(env).EDGE_VERIFY_TTL_MS;
// Manifests are immutable and small: an isolate keeps the most recent ones in memory (verified),
// so the device's second request of a resolve costs no R2 read.
const manifests = new Map<string, ArrayBuffer>();
const MAX_CACHED_MANIFESTS = 256;
const MAX_CACHED_MANIFEST_BYTES = 1 << 20;
const published = new Set<string>();

export function assertDigest(digest: string): void {
  if (!DIGEST_PATTERN.test(digest))
    throw new ApiError('bad_request', 'a digest is 64 lowercase hex characters (SHA-256)');
}

function notModified(request: Request, etag: string): boolean {
  const header = request.headers.get('if-none-match');
  return header !== null && header.split(',').some((t) => t.trim() === etag || t.trim() === '*');
}

/**
 * A stored manifest envelope's bytes, verified against its digest, from the isolate's memory when
 * it has them; null if absent; `content_corrupt` if the payload no longer hashes to the digest.
 */
export async function manifestBytes(env: EdgeEnv, digest: string): Promise<ArrayBuffer | null> {
  let bytes = manifests.get(digest);
  if (!bytes) {
    const object = await env.ARTIFACTS.get(r2Key.manifest(digest));
    if (!object) return null;
    bytes = await object.arrayBuffer();
    // Small and read once per isolate (then kept in memory): always hashed, no verdict needed.
    if (!(await isIntact('manifest', digest, bytes))) {
      await recordFault(env.DB, 'manifest', digest, 'edge');
      throw corruptError('manifest', digest);
    }
    if (bytes.byteLength <= MAX_CACHED_MANIFEST_BYTES) {
      if (manifests.size >= MAX_CACHED_MANIFESTS) manifests.delete(manifests.keys().next().value!); // oldest first
      manifests.set(digest, bytes);
    }
  }
  return bytes;
}

/**
 * Only a manifest an accepted version names is served: one that a crashed or losing commit left
 * in R2 is signed but was never published (publish/claim.ts removes it on the retry). Published
 * manifests stay published, so only a yes is remembered (an isolate's manifests memo counts too:
 * it is filled from versions' digests).
 */
async function isPublished(env: EdgeEnv, digest: string): Promise<boolean> {
  if (manifests.has(digest) || published.has(digest)) return true;
  const row = await env.DB.prepare(
    `SELECT 1 AS ok FROM versions WHERE manifest_digest = ? AND status = 'active' LIMIT 1`,
  )
    .bind(digest)
    .first();
  if (row === null) return false;
  if (published.size >= 10_000) published.clear(); // bounded; a miss costs one D1 read
  published.add(digest);
  return true;
}

export async function serveManifest(env: EdgeEnv, request: Request, digest: string): Promise<Response> {
  assertDigest(digest);
  const etag = `"${digest}"`;
  const headers = { etag, 'cache-control': IMMUTABLE, 'content-type': 'application/json' };
  if (!(await isPublished(env, digest))) throw new ApiError('not_found', `no manifest ${digest}`);
  if (notModified(request, etag)) return new Response(null, { status: 304, headers });
  const bytes = await manifestBytes(env, digest);
  if (!bytes) throw new ApiError('not_found', `no manifest ${digest}`);
  return new Response(bytes, { headers });
}

/** Only chunks referenced by an accepted version are served: a rejected upload's bytes never leave. */
async function isServable(env: EdgeEnv, digest: string, ttlMs: number): Promise<boolean> {
  return servable.get(digest, ttlMs, Date.now(), async () => {
    const row = await env.DB.prepare(
      `SELECT 1 AS ok FROM chunk_refs r JOIN versions v ON v.id = r.version_id WHERE r.digest = ? AND v.status = 'active' LIMIT 1`,
    )
      .bind(digest)
      .first();
    return row !== null;
  });
}

/**
 * A chunk's stored bytes, verified, for the ticket bundle (SPEC 1.6 inlines small models' chunks);
 * null if absent, `content_corrupt` if they no longer hash to the digest.
 */
export async function verifiedChunkBytes(env: EdgeEnv, digest: string): Promise<Uint8Array | null> {
  const object = await env.ARTIFACTS.get(r2Key.chunk(digest));
  if (!object) return null;
  const bytes = new Uint8Array(await object.arrayBuffer());
  await checkChunk(env, digest, object, bytes);
  return bytes;
}

/** Hashes a stored chunk's whole bytes, remembers the verdict for that stored version, refuses if corrupt. */
async function checkChunk(
  env: EdgeEnv,
  digest: string,
  object: R2Object,
  bytes: ArrayBuffer | Uint8Array,
): Promise<void> {
  const key = Verdicts.key(digest, object);
  const now = Date.now();
  let ok = verdicts.get(key, now);
  if (ok === undefined) {
    ok = await isIntact('chunk', digest, bytes);
    verdicts.set(key, ok, now, verifyTtl(env));
    if (!ok) await recordFault(env.DB, 'chunk', digest, 'edge');
  }
  if (!ok) throw corruptError('chunk', digest);
}

export async function serveChunk(env: EdgeEnv, request: Request, digest: string, ttlMs: number): Promise<Response> {
  assertDigest(digest);
  const etag = `"${digest}"`;
  const base = {
    etag,
    'cache-control': IMMUTABLE,
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
  };
  if (!(await isServable(env, digest, ttlMs))) throw new ApiError('not_found', `no chunk ${digest}`);
  if (notModified(request, etag)) return new Response(null, { status: 304, headers: base });
  const key = r2Key.chunk(digest);
  const ranged = request.headers.has('range');
  let object = await env.ARTIFACTS.get(key, ranged ? { range: request.headers } : {});
  if (!object) throw new ApiError('not_found', `no chunk ${digest}`);
  const verdict = verdicts.get(Verdicts.key(digest, object), Date.now());
  if (verdict === false) {
    await object.body.cancel();
    throw corruptError('chunk', digest);
  }
  if (verdict === undefined) {
    // First read of this stored version in this isolate: hash all of it before any byte leaves.
    if (!ranged) {
      const bytes = await object.arrayBuffer();
      await checkChunk(env, digest, object, bytes);
      return new Response(bytes, { headers: { ...base, 'content-length': String(bytes.byteLength) } });
    }
    await object.body.cancel();
    const whole = await env.ARTIFACTS.get(key);
    if (!whole) throw new ApiError('not_found', `no chunk ${digest}`);
    await checkChunk(env, digest, whole, await whole.arrayBuffer());
    object = await env.ARTIFACTS.get(key, { range: request.headers });
    if (!object) throw new ApiError('not_found', `no chunk ${digest}`);
    // Overwritten between the two reads: what we would send is not what we verified.
    if (Verdicts.key(digest, object) !== Verdicts.key(digest, whole)) {
      await object.body.cancel();
      throw new ApiError('content_corrupt', `chunk ${digest} changed while it was being verified; retry`, {
        kind: 'chunk',
        digest,
      });
    }
  }
  // A range that starts at or past the end cannot be satisfied (RFC 9110 §15.5.17): R2 answers it
  // with the whole object, which a client would take for the range it asked for.
  const start = /^bytes=(\d+)-\d*$/.exec(request.headers.get('range') ?? '')?.[1];
  if (ranged && start !== undefined && Number(start) >= object.size) {
    await object.body.cancel();
    return new Response(null, { status: 416, headers: { ...base, 'content-range': `bytes */${object.size}` } });
  }
  if (!ranged || !object.range) {
    return new Response(object.body, { headers: { ...base, 'content-length': String(object.size) } });
  }
  const r = object.range as { offset?: number; length?: number; suffix?: number };
  const offset = r.suffix !== undefined ? object.size - r.suffix : (r.offset ?? 0);
  const length = r.suffix !== undefined ? r.suffix : (r.length ?? object.size - offset);
  return new Response(object.body, {
    status: 206,
    headers: {
      ...base,
      'content-length': String(length),
      'content-range': `bytes ${offset}-${offset + length - 1}/${object.size}`,
    },
  });
}
