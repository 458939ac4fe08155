/**
 * @module storage/scrub
 * Walks the stored objects that active versions reference — their chunks and signed manifests —
 * reads each from R2 and checks it against its digest, a bounded page per request (a Worker
 * request has a CPU and memory budget; `modelfleet scrub` pages through and shows progress).
 * Problems name the versions that need the object, so an operator knows which model files repair
 * it. Findings are recorded in storage_faults as the edge's are; an object found intact clears its row.
 */
import { type StoredKind, isIntact, r2Key, recordFault } from '@modelfleet/server-shared';
import type { ScrubPage, ScrubProblem, StorageFault } from '@modelfleet/protocol';
import type { Env } from '../env.ts';

export const SCRUB_PAGE_MAX = 100;
/** Bytes read per page at most (the page ends early past it): chunks are up to 4 MiB each. */
const PAGE_BYTES = 32 * 2 ** 20;

// Every object an active version needs, once: 'chunk' sorts before 'manifest', so the cursor
// `kind:digest` walks chunks first.
const REFERENCED = `
  SELECT 'chunk' AS kind, r.digest AS digest FROM chunk_refs r JOIN versions v ON v.id = r.version_id WHERE v.status = 'active'
  UNION
  SELECT 'manifest' AS kind, manifest_digest AS digest FROM versions WHERE status = 'active' AND manifest_digest IS NOT NULL`;

interface Ref {
  kind: StoredKind;
  digest: string;
}

export function parseCursor(after: string | undefined): Ref | null {
  if (!after) return null;
  const m = /^(chunk|manifest):([0-9a-f]{64})$/.exec(after);
  return m ? { kind: m[1] as StoredKind, digest: m[2]! } : null;
}

async function check(env: Env, ref: Ref): Promise<{ state: 'ok' | 'corrupt' | 'missing'; bytes: number }> {
  const object = await env.ARTIFACTS.get(ref.kind === 'chunk' ? r2Key.chunk(ref.digest) : r2Key.manifest(ref.digest));
  if (!object) return { state: 'missing', bytes: 0 };
  const bytes = await object.arrayBuffer();
  return { state: (await isIntact(ref.kind, ref.digest, bytes)) ? 'ok' : 'corrupt', bytes: bytes.byteLength };
}

async function versionsNeeding(db: D1Database, ref: Ref): Promise<ScrubProblem['versions']> {
  const sql =
    ref.kind === 'chunk'
      ? `SELECT m.name AS model, v.version FROM chunk_refs r JOIN versions v ON v.id = r.version_id JOIN models m ON m.id = v.model_id
       WHERE r.digest = ? AND v.status = 'active' ORDER BY m.name, v.version`
      : `SELECT m.name AS model, v.version FROM versions v JOIN models m ON m.id = v.model_id
       WHERE v.manifest_digest = ? AND v.status = 'active' ORDER BY m.name, v.version`;
  return (await db.prepare(sql).bind(ref.digest).all<{ model: string; version: number }>()).results;
}

export async function listFaults(db: D1Database): Promise<StorageFault[]> {
  const { results } = await db
    .prepare(
      `SELECT kind, digest, detections, first_seen AS firstSeen, last_seen AS lastSeen, last_where AS lastWhere
     FROM storage_faults ORDER BY last_seen DESC LIMIT 1000`,
    )
    .all<StorageFault>();
  return results;
}

/** One page of the scrub: up to `limit` objects after the cursor, each read and hashed. */
export async function scrubPage(env: Env, opts: { after?: string; limit: number }): Promise<ScrubPage> {
  const cursor = parseCursor(opts.after);
  const [refs, count] = await env.DB.batch<Ref | { n: number }>([
    env.DB.prepare(
      `SELECT kind, digest FROM (${REFERENCED}) WHERE ?1 IS NULL OR kind > ?1 OR (kind = ?1 AND digest > ?2) ORDER BY kind, digest LIMIT ?3`,
    ).bind(cursor?.kind ?? null, cursor?.digest ?? '', opts.limit),
    env.DB.prepare(`SELECT COUNT(*) AS n FROM (${REFERENCED})`),
  ]);
  const page = refs!.results as Ref[];
  const problems: ScrubProblem[] = [];
  const intact: Ref[] = [];
  let bytes = 0;
  let checked = 0;
  for (const ref of page) {
    const result = await check(env, ref);
    checked++;
    bytes += result.bytes;
    if (result.state === 'ok') intact.push(ref);
    else {
      if (result.state === 'corrupt') await recordFault(env.DB, ref.kind, ref.digest, 'scrub');
      problems.push({ ...ref, state: result.state, versions: await versionsNeeding(env.DB, ref) });
    }
    if (bytes >= PAGE_BYTES) break;
  }
  if (intact.length > 0) {
    // Repaired out of band (or a false alarm): the fault no longer holds.
    await env.DB.prepare("DELETE FROM storage_faults WHERE kind || ':' || digest IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(intact.map((r) => `${r.kind}:${r.digest}`)))
      .run();
  }
  const last = page[checked - 1];
  const more = checked < page.length || page.length === opts.limit;
  return {
    total: (count!.results[0] as { n: number }).n,
    checked,
    bytes,
    problems,
    next: more && last ? `${last.kind}:${last.digest}` : null,
    ...(opts.after ? {} : { faults: await listFaults(env.DB) }),
  };
}
