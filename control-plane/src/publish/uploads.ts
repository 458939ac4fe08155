/**
 * @module uploads
 * Publishing is three steps so that bytes travel once and memory stays bounded:
 *   1. POST the model.json, metadata and the client's chunk plan  → which chunks are missing;
 *   2. PUT each missing chunk (≤ 4 MiB), verified against its digest before it is stored (a PUT
 *      of a chunk already stored whose stored bytes no longer match replaces them: a repair);
 *   3. commit → validation with TF.js, then a signed manifest (commit.ts).
 * The server recomputes the chunk plan from the weight specs, so a client cannot choose
 * boundaries that straddle tensors or lie about sizes.
 */
import { ApiError, isIntact, r2Key } from '@modelfleet/server-shared';
import {
  TfjsModelError,
  type UploadRequest,
  type UploadResponse,
  planChunks,
  sha256Hex,
  tensorByteLength,
  weightSpecsOf,
} from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel } from '../registry/models.ts';
import { UPLOAD_TTL_MS, maxModelBytes } from './limits.ts';

export const uploadKey = (id: string) => `uploads/${id}.json`;

export interface UploadRow {
  id: string;
  model_id: number;
  model: string;
  created_by: string;
  expires_at: string;
  state: 'open' | 'committed';
}

/** The refusal of a second commit (or anything else) on an upload that was already committed. */
export function committedError(uploadId: string, version: number | null): ApiError {
  return new ApiError(
    'upload_committed',
    `upload ${uploadId} was already committed${version ? ` as version ${version}` : ''}`,
    version ? { version } : undefined,
  );
}

/** Step 1: checks the plan and stages the request; nothing in the registry changes. */
export async function createUpload(env: Env, model: string, req: UploadRequest, op: Operator): Promise<UploadResponse> {
  const m = await findModel(env.DB, model);
  let plan;
  try {
    const specs = weightSpecsOf(req.modelJson);
    // The declared size is checked before planning: planning allocates per chunk, and a [2^42]
    // tensor once spent 4.3 s and 339 MB there before the size check refused it (issue 15).
    const declared = specs.reduce((sum, s) => sum + tensorByteLength(s), 0);
    if (declared > maxModelBytes(env)) {
      throw new ApiError(
        'payload_too_large',
        `model weights are ${declared} bytes; this registry accepts at most ${maxModelBytes(env)} (MAX_MODEL_BYTES)`,
      );
    }
    plan = planChunks(specs);
  } catch (e) {
    if (e instanceof TfjsModelError) throw new ApiError(e.code, e.message);
    throw e;
  }
  const sizesMatch =
    plan.chunks.length === req.chunks.length && plan.chunks.every((c, i) => c.size === req.chunks[i]!.size);
  if (!sizesMatch) {
    throw new ApiError(
      'weights_mismatch',
      'the chunk plan does not match the weight specs: use planChunks from @modelfleet/protocol on the concatenated weight files',
      {
        expected: plan.chunks.map((c) => c.size),
        got: req.chunks.map((c) => c.size),
      },
    );
  }
  const distinct = [...new Set(req.chunks.map((c) => c.digest))];
  const present = await Promise.all(distinct.map((d) => env.ARTIFACTS.head(r2Key.chunk(d))));
  const missing = distinct.filter((_, i) => present[i] === null);

  const id = crypto.randomUUID();
  const now = Date.now();
  const expiresAt = new Date(now + UPLOAD_TTL_MS).toISOString();
  // The request can be megabytes (graph topologies); R2 holds it, D1 holds the bookkeeping.
  await env.ARTIFACTS.put(uploadKey(id), JSON.stringify(req), { httpMetadata: { contentType: 'application/json' } });
  await env.DB.prepare(
    'INSERT INTO uploads (id, model_id, request, created_by, created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
    .bind(id, m.id, uploadKey(id), op.actor, new Date(now).toISOString(), expiresAt, 'open')
    .run();
  return { uploadId: id, model, expiresAt, totalBytes: plan.totalBytes, missing };
}

export async function openUpload(env: Env, id: string): Promise<UploadRow> {
  const row = await env.DB.prepare(
    'SELECT u.id, u.model_id, m.name AS model, u.created_by, u.expires_at, u.state, u.version FROM uploads u JOIN models m ON m.id = u.model_id WHERE u.id = ?',
  )
    .bind(id)
    .first<UploadRow & { version: number | null }>();
  if (!row) throw new ApiError('not_found', `no upload ${id}; start one with POST /v1/models/{model}/uploads`);
  if (row.state === 'committed') throw committedError(id, row.version);
  if (Date.parse(row.expires_at) <= Date.now())
    throw new ApiError('upload_expired', `upload ${id} expired at ${row.expires_at}; start a new one`);
  return row;
}

export async function loadUploadRequest(env: Env, id: string): Promise<UploadRequest> {
  const object = await env.ARTIFACTS.get(uploadKey(id));
  if (!object) throw new ApiError('upload_expired', `upload ${id} lost its staged request; start a new one`);
  return object.json<UploadRequest>();
}

export interface ChunkPutResult {
  digest: string;
  size: number;
  stored: boolean;
  repaired?: true;
}

/**
 * Step 2: stores one chunk if its bytes hash to the digest the plan names. A chunk already stored
 * is read back and hashed: intact, nothing is written (`stored: false`); corrupt (R2 checks a
 * digest only on write), it is replaced with these verified bytes (`repaired: true`), audited,
 * and its storage fault cleared — without this a corrupt chunk could never be fixed.
 */
export async function putChunk(
  env: Env,
  id: string,
  digest: string,
  body: ArrayBuffer,
  op: Operator,
): Promise<ChunkPutResult> {
  await openUpload(env, id);
  const req = await loadUploadRequest(env, id);
  const expected = req.chunks.find((c) => c.digest === digest);
  if (!expected) throw new ApiError('chunk_not_in_upload', `chunk ${digest} is not part of upload ${id}`);
  if (body.byteLength !== expected.size) {
    throw new ApiError(
      'chunk_digest_mismatch',
      `chunk ${digest} should be ${expected.size} bytes, got ${body.byteLength}`,
    );
  }
  const actual = await sha256Hex(new Uint8Array(body));
  if (actual !== digest)
    throw new ApiError(
      'chunk_digest_mismatch',
      `chunk bytes hash to ${actual}, not ${digest}: the upload was corrupted, resend it`,
    );
  const key = r2Key.chunk(digest);
  const existing = await env.ARTIFACTS.get(key);
  const corrupt = existing !== null && !(await isIntact('chunk', digest, await existing.arrayBuffer()));
  if (existing && !corrupt) return { digest, size: body.byteLength, stored: false };
  // R2 re-checks the digest on write, so a flipped bit between here and storage is refused too.
  await env.ARTIFACTS.put(key, body, { sha256: digest, httpMetadata: { contentType: 'application/octet-stream' } });
  if (!corrupt) return { digest, size: body.byteLength, stored: true };
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("DELETE FROM storage_faults WHERE kind = 'chunk' AND digest = ?").bind(digest),
    auditStatement(
      env.DB,
      {
        actor: op.actor,
        action: 'chunk.repair',
        subject: `chunk/${digest}`,
        after: { size: body.byteLength, upload: id },
        reason: 'stored bytes did not match their digest',
      },
      at,
    ),
  ]);
  return { digest, size: body.byteLength, stored: true, repaired: true };
}
