/**
 * @module publish/claim
 * One commit per upload, crash or no crash. A commit claims its upload before any work (a
 * compare-and-swap in D1), so a second concurrent commit is refused with 409 `conflict` before it
 * signs anything; the final batch writes only while the claim is still held (`heldBy`). The claim
 * is a lease: a commit that crashed leaves it to lapse (COMMIT_LEASE_SECONDS), after which a retry
 * takes it over and first removes the manifest the crashed commit had announced (`announce`) and
 * perhaps stored in R2 — no version names it, and the edge serves only manifests a version names.
 */
import { ApiError, r2Key } from '@modelfleet/server-shared';
import type { Env } from '../env.ts';
import { commitLeaseMs } from './limits.ts';
import { type UploadRow, committedError } from './uploads.ts';

export interface Claim {
  uploadId: string;
  token: string;
}

/** Claims the upload for this commit, or throws `upload_committed` / `conflict` (another commit holds it). */
export async function claimUpload(env: Env, upload: UploadRow): Promise<Claim> {
  const token = crypto.randomUUID();
  const now = Date.now();
  const lapsed = new Date(now - commitLeaseMs(env)).toISOString();
  const row = await env.DB.prepare(
    `UPDATE uploads SET claim = ?, claimed_at = ? WHERE id = ? AND state = 'open' AND (claim IS NULL OR claimed_at <= ?) RETURNING manifest`,
  )
    .bind(token, new Date(now).toISOString(), upload.id, lapsed)
    .first<{ manifest: string | null }>();
  if (!row) {
    const current = await env.DB.prepare('SELECT state, claimed_at, version FROM uploads WHERE id = ?')
      .bind(upload.id)
      .first<{ state: string; claimed_at: string | null; version: number | null }>();
    if (current?.state === 'committed') throw committedError(upload.id, current.version);
    const retryAt = new Date(
      Date.parse(current?.claimed_at ?? new Date(now).toISOString()) + commitLeaseMs(env),
    ).toISOString();
    throw new ApiError(
      'conflict',
      `another commit of upload ${upload.id} is running (claimed at ${current?.claimed_at}); wait for its answer, or if it crashed, commit again after ${retryAt}`,
      { claimedAt: current?.claimed_at, retryAt },
    );
  }
  // A lapsed claim's commit may have stored a manifest before it crashed: never served, now removed.
  if (row.manifest) await dropUnreferencedManifest(env, row.manifest);
  return { uploadId: upload.id, token };
}

/** SQL that holds while the claim does (for statements of the commit's batch), with its parameters. */
export function heldBy(claim: Claim): { sql: string; params: unknown[] } {
  return {
    sql: "EXISTS (SELECT 1 FROM uploads WHERE id = ? AND claim = ? AND state = 'open')",
    params: [claim.uploadId, claim.token],
  };
}

/** Writes down the manifest this commit is about to store, before it is stored; false if the claim was lost. */
export async function announce(env: Env, claim: Claim, digest: string): Promise<boolean> {
  const r = await env.DB.prepare("UPDATE uploads SET manifest = ? WHERE id = ? AND claim = ? AND state = 'open'")
    .bind(digest, claim.uploadId, claim.token)
    .run();
  return r.meta.changes === 1;
}

/** Gives the claim up after a failed commit (its manifest, if any, removed first), so that a retry need not wait. */
export async function releaseClaim(env: Env, claim: Claim, digest: string | null): Promise<void> {
  if (digest) await dropUnreferencedManifest(env, digest);
  await env.DB.prepare(
    "UPDATE uploads SET claim = NULL, claimed_at = NULL, manifest = NULL WHERE id = ? AND claim = ? AND state = 'open'",
  )
    .bind(claim.uploadId, claim.token)
    .run();
}

/** Deletes a manifest from R2 unless a version names it. */
export async function dropUnreferencedManifest(env: Env, digest: string): Promise<void> {
  const named = await env.DB.prepare('SELECT 1 FROM versions WHERE manifest_digest = ? LIMIT 1').bind(digest).first();
  if (!named) await env.ARTIFACTS.delete(r2Key.manifest(digest));
}
