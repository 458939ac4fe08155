/**
 * @module publish (test harness)
 * Drives the three publish steps over the API with explicit control of each, so tests can
 * skip, corrupt or reorder them. The CLI's `publish` is the user-facing equivalent.
 */
import { createHash } from 'node:crypto';
import { type UploadRequest, planChunks, weightSpecsOf } from '@modelfleet/protocol';
import type { TestWorker } from './worker.ts';

export interface ModelArtifacts {
  modelJson: UploadRequest['modelJson'];
  weightData: Uint8Array;
}

export function chunkArtifacts(artifacts: ModelArtifacts): { digest: string; size: number; bytes: Uint8Array }[] {
  const plan = planChunks(weightSpecsOf(artifacts.modelJson));
  return plan.chunks.map((c) => {
    const bytes = artifacts.weightData.subarray(c.offset, c.offset + c.size);
    return { digest: createHash('sha256').update(bytes).digest('hex'), size: c.size, bytes };
  });
}

export async function stageUpload(
  worker: TestWorker,
  model: string,
  artifacts: ModelArtifacts,
  meta: Partial<UploadRequest> = {},
  token?: string,
) {
  const chunks = chunkArtifacts(artifacts);
  const res = await worker.api(`/v1/models/${model}/uploads`, {
    method: 'POST',
    ...(token ? { token } : {}),
    json: {
      format: 'tfjs-layers',
      modelJson: artifacts.modelJson,
      chunks: chunks.map(({ digest, size }) => ({ digest, size })),
      ...meta,
    },
  });
  return { res, body: (await res.clone().json()) as Record<string, any>, chunks };
}

export async function putChunk(
  worker: TestWorker,
  uploadId: string,
  digest: string,
  bytes: Uint8Array,
  token?: string,
) {
  return worker.api(`/v1/uploads/${uploadId}/chunks/${digest}`, {
    method: 'PUT',
    ...(token ? { token } : {}),
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes as unknown as BodyInit,
  });
}

/** Stage, send the missing chunks, commit. Returns the commit response and its body. */
export async function publish(
  worker: TestWorker,
  model: string,
  artifacts: ModelArtifacts,
  meta: Partial<UploadRequest> = {},
) {
  const staged = await stageUpload(worker, model, artifacts, meta);
  if (staged.res.status !== 201) throw new Error(`upload refused: ${staged.res.status} ${JSON.stringify(staged.body)}`);
  const missing = new Set<string>(staged.body.missing);
  for (const c of staged.chunks) {
    if (!missing.delete(c.digest)) continue;
    const res = await putChunk(worker, staged.body.uploadId, c.digest, c.bytes);
    if (res.status !== 200) throw new Error(`chunk refused: ${res.status} ${await res.text()}`);
  }
  const res = await worker.api(`/v1/uploads/${staged.body.uploadId}/commit`, { method: 'POST' });
  return {
    res,
    body: (await res.json()) as Record<string, any>,
    uploaded: staged.body.missing.length as number,
    chunks: staged.chunks.length,
  };
}

export async function createModel(worker: TestWorker, name: string, description?: string): Promise<void> {
  const res = await worker.api('/v1/models', {
    method: 'POST',
    json: { name, ...(description ? { description } : {}) },
  });
  if (res.status !== 201) throw new Error(`create model: ${res.status} ${await res.text()}`);
}

/** Everything a refused request must leave untouched. */
export async function registrySnapshot(worker: TestWorker) {
  const q = async (sql: string) => (await worker.db.prepare(sql).all()).results;
  return {
    models: await q('SELECT * FROM models ORDER BY id'),
    versions: await q('SELECT * FROM versions ORDER BY id'),
    aliases: await q('SELECT * FROM aliases ORDER BY model_id, name'),
    chunkRefs: await q('SELECT * FROM chunk_refs ORDER BY digest, version_id'),
    roots: await q('SELECT version FROM roots ORDER BY version'),
    tokens: await q('SELECT id FROM tokens ORDER BY id'),
    audit: await q('SELECT id, action FROM audit ORDER BY id'),
  };
}
