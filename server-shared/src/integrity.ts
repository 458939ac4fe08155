/**
 * @module integrity
 * Stored bytes are checked against the digest that names them before they leave (issue 15):
 * R2 checks a digest on write, but nothing checks the object afterwards, and a content-addressed
 * object is served with its digest as ETag and a year of immutable caching — so one flipped byte
 * would otherwise be cached by every CDN and browser as the real thing.
 *
 * A verdict is remembered per isolate for the stored *version* of the object (R2's `version` and
 * `etag` change on every write), so a repair or a corrupting overwrite is verified afresh, and a
 * chunk costs one hash per isolate per EDGE_VERIFY_TTL_MS, not one per request.
 */
import { fromBase64, fromUtf8, sha256Hex } from '@modelfleet/protocol';
import { ApiError } from './http-error.ts';

export type StoredKind = 'chunk' | 'manifest';

/** The SHA-256 a stored object's bytes name: a chunk's own bytes, a manifest envelope's payload. */
export async function storedDigest(kind: StoredKind, bytes: ArrayBuffer | Uint8Array): Promise<string | null> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (kind === 'chunk') return sha256Hex(view);
  try {
    // SPEC 2.2: a manifest's digest is that of its payload bytes; the signatures are the device's
    // to verify against its root (2.3), which the edge does not hold.
    const envelope = JSON.parse(fromUtf8(view)) as { payload?: unknown };
    return typeof envelope.payload === 'string' ? await sha256Hex(fromBase64(envelope.payload)) : null;
  } catch {
    return null; // not UTF-8, not JSON or not base64: corrupt, whatever the digest
  }
}

export async function isIntact(kind: StoredKind, digest: string, bytes: ArrayBuffer | Uint8Array): Promise<boolean> {
  return (await storedDigest(kind, bytes)) === digest;
}

/** The refusal a device sees instead of bad bytes: a 503 that is never cached. */
export function corruptError(kind: StoredKind, digest: string): ApiError {
  return new ApiError(
    'content_corrupt',
    `the stored ${kind} ${digest} does not match its digest; it is withheld until an operator repairs it (modelfleet scrub --repair)`,
    { kind, digest },
  );
}

/** Per-isolate verdicts keyed by digest and stored version; bounded, each for `ttlMs`. */
export class Verdicts {
  private readonly entries = new Map<string, { ok: boolean; expires: number }>();
  constructor(private readonly maxEntries = 10_000) {}

  static key(digest: string, object: { version: string; etag: string }): string {
    return `${digest}/${object.version}/${object.etag}`;
  }

  get(key: string, now: number): boolean | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires > now ? hit.ok : undefined;
  }

  set(key: string, ok: boolean, now: number, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear(); // a cold isolate re-verifies; cheap
    this.entries.set(key, { ok, expires: now + ttlMs });
  }
}

/**
 * Counts a corrupt read where operators look (storage_faults, read by /v1/storage/scrub) and logs
 * it. Called once per isolate per corrupt stored version (the verdict is remembered), so a hot
 * corrupt chunk does not turn into a D1 write per request. Never throws: the refusal matters more.
 */
export async function recordFault(db: D1Database, kind: StoredKind, digest: string, where: string): Promise<void> {
  console.error(JSON.stringify({ event: 'integrity_failure', kind, digest, where }));
  const at = new Date().toISOString();
  try {
    await db
      .prepare(
        `INSERT INTO storage_faults (kind, digest, detections, first_seen, last_seen, last_where) VALUES (?1, ?2, 1, ?3, ?3, ?4)
       ON CONFLICT (kind, digest) DO UPDATE SET detections = detections + 1, last_seen = ?3, last_where = ?4`,
      )
      .bind(kind, digest, at, where)
      .run();
  } catch (e) {
    console.error('storage_faults write failed', e);
  }
}
