/**
 * @module commit
 * Step 3 of publishing: assemble the verified chunks, run CI validation with TF.js inside the
 * Worker, then either store a signed manifest (status `active`) or record the version as
 * `rejected` with its reasons. Nothing is written until every check has run. A commit holds a
 * claim on its upload throughout (claim.ts): one upload makes exactly one version, and a crash
 * at any step is completed by committing again.
 */
import { ApiError, r2Key } from '@modelfleet/server-shared';
import {
  type Manifest,
  type UploadRequest,
  declaredInputStats,
  modelJsonWithoutWeights,
  planChunks,
  sha256Hex,
  signManifest,
  weightSpecsOf,
} from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { crashPoint } from '../fault/crash-points.ts';
import type { Operator } from '../http/context.ts';
import { auditStatementIf } from '../registry/audit.ts';
import { releaseSigner } from '../trust/roots.ts';
import { type Check, type ValidationResult, validateModel } from '../validate/index.ts';
import { type Claim, announce, claimUpload, heldBy, releaseClaim } from './claim.ts';
import { type UploadRow, loadUploadRequest, openUpload } from './uploads.ts';

export interface CommitResult {
  model: string;
  version: number;
  status: 'active' | 'rejected';
  manifestDigest: string | null;
  totalBytes: number;
  reasons: { code: string; message: string }[];
  /** What validation ran, as recorded with the version (the probe check names the shapes run). */
  checks: Check[];
}

/** Reads every chunk back from R2 and re-hashes it: what is signed is what devices will get. */
async function assembleWeights(env: Env, req: UploadRequest): Promise<Uint8Array> {
  const total = req.chunks.reduce((n, c) => n + c.size, 0);
  const weights = new Uint8Array(total);
  const missing: string[] = [];
  let offset = 0;
  for (const chunk of req.chunks) {
    const object = await env.ARTIFACTS.get(r2Key.chunk(chunk.digest));
    if (!object) {
      missing.push(chunk.digest);
    } else {
      const bytes = new Uint8Array(await object.arrayBuffer());
      if (bytes.byteLength !== chunk.size || (await sha256Hex(bytes)) !== chunk.digest) {
        throw new ApiError(
          'chunk_digest_mismatch',
          `stored chunk ${chunk.digest} does not match its digest; re-upload it`,
        );
      }
      weights.set(bytes, offset);
    }
    offset += chunk.size;
  }
  if (missing.length > 0) {
    throw new ApiError('upload_incomplete', `${missing.length} chunk(s) not uploaded yet; PUT them before committing`, {
      missing,
    });
  }
  return weights;
}

function buildManifest(
  model: string,
  version: number,
  req: UploadRequest,
  io: Manifest['io'],
  op: Operator,
  at: string,
): Manifest {
  const plan = planChunks(weightSpecsOf(req.modelJson));
  return {
    type: 'modelfleet/manifest',
    specVersion: 1,
    model,
    version,
    ...(req.label === undefined ? {} : { label: req.label }),
    format: req.format,
    modelJson: modelJsonWithoutWeights(req.modelJson),
    weights: plan.tensors,
    chunks: req.chunks,
    totalBytes: plan.totalBytes,
    io,
    runtime: req.runtime ?? { backends: ['webgpu', 'wasm', 'cpu'] },
    monitoring: { baseline: req.baseline ?? null },
    metrics: req.metrics ?? { values: {} },
    params: req.params ?? {},
    lineage: req.lineage ?? {},
    publishedAt: at,
    publishedBy: op.actor,
  };
}

/**
 * A baseline's declared input statistics (@input.<input>.<stat>) must name inputs of the model as
 * signed: a typo would otherwise publish a baseline whose devices never measure anything. Refused
 * like any validation failure (io_mismatch), so the version is recorded as rejected.
 */
function withBaselineInputs(result: ValidationResult, baseline: UploadRequest['baseline']): ValidationResult {
  if (!result.ok || !baseline) return result;
  const names = new Set(result.io.inputs.map((i) => i.name));
  const unknown = [...declaredInputStats(baseline.features).keys()].filter((n) => !names.has(n));
  if (unknown.length === 0) return result;
  const message = `the baseline declares statistics of input(s) ${unknown.join(', ')}; the model's inputs are ${[...names].join(', ')}`;
  return { ok: false, reasons: [{ code: 'io_mismatch', message }], checks: result.checks };
}

export async function commitUpload(env: Env, uploadId: string, op: Operator): Promise<CommitResult> {
  const upload = await openUpload(env, uploadId);
  const req = await loadUploadRequest(env, uploadId);
  const signer = await releaseSigner(env); // fail before validation work if signing cannot happen
  const claim = await claimUpload(env, upload);
  await crashPoint(env, 'commit:after-claim');
  let digest: string | null = null;
  try {
    const { weights, result } = await validateUpload(env, req);
    const at = new Date().toISOString();
    const next = await env.DB.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM versions WHERE model_id = ?')
      .bind(upload.model_id)
      .first<{ v: number }>();
    const version = next!.v;
    const validation = { checks: result.checks, reasons: result.ok ? [] : result.reasons };
    const totalBytes = weights.byteLength;
    if (result.ok) {
      const signed = await signManifest(buildManifest(upload.model, version, req, result.io, op, at), [signer]);
      // Announced before it is stored: if this commit dies, the one that takes the claim over removes it.
      if (!(await announce(env, claim, signed.digest))) throw lostClaim(uploadId);
      digest = signed.digest;
      // Unreferenced until the batch below names it, so never served before (edge content.ts).
      await env.ARTIFACTS.put(r2Key.manifest(digest), JSON.stringify(signed.envelope), {
        httpMetadata: { contentType: 'application/json' },
      });
      await crashPoint(env, 'commit:after-manifest');
    }
    const status = result.ok ? 'active' : 'rejected';
    const statements = versionStatements(
      env.DB,
      {
        upload,
        uploadId,
        claim,
        req,
        result,
        op,
        at,
        version,
        status,
        digest,
        totalBytes,
      },
      validation,
    );
    let results: D1Result[];
    try {
      results = await env.DB.batch(statements);
    } catch (e) {
      // A concurrent publish of another upload took the same number: UNIQUE(model_id, version) failed this whole batch.
      throw new ApiError(
        'conflict',
        `version ${version} of ${upload.model} was taken by a concurrent publish; commit again`,
        { cause: String(e) },
      );
    }
    if (results.at(-1)!.meta.changes !== 1) throw lostClaim(uploadId);
    await crashPoint(env, 'commit:after-batch');
    return {
      model: upload.model,
      version,
      status,
      manifestDigest: digest,
      totalBytes,
      reasons: validation.reasons,
      checks: validation.checks,
    };
  } catch (e) {
    await releaseClaim(env, claim, digest);
    throw e;
  }
}

/** The upload's weights, assembled and re-hashed, and what CI validation (TF.js in the Worker) made of them. */
async function validateUpload(
  env: Env,
  req: UploadRequest,
): Promise<{ weights: Uint8Array; result: ValidationResult }> {
  const weights = await assembleWeights(env, req);
  const validated = await validateModel({
    format: req.format,
    modelJson: req.modelJson,
    weightData: weights.buffer as ArrayBuffer,
    ...(req.io ? { io: req.io } : {}),
    ...(req.golden ? { golden: req.golden } : {}),
  });
  return { weights, result: withBaselineInputs(validated, req.baseline) };
}

/** The new version as the commit's D1 batch writes it. */
interface NewVersion {
  upload: UploadRow;
  uploadId: string;
  claim: Claim;
  req: UploadRequest;
  result: ValidationResult;
  op: Operator;
  at: string;
  version: number;
  status: CommitResult['status'];
  digest: string | null;
  totalBytes: number;
}

/**
 * The version row, its chunk references (active versions only), the audit record and the upload
 * marked committed. Every statement writes only while this commit holds the claim; the last one ends it.
 */
function versionStatements(
  db: D1Database,
  v: NewVersion,
  validation: { checks: Check[]; reasons: CommitResult['reasons'] },
): D1PreparedStatement[] {
  const { upload, uploadId, claim, req, result, op, at, version, status, digest, totalBytes } = v;
  const held = heldBy(claim);
  return [
    db
      .prepare(
        `INSERT INTO versions (model_id, version, label, status, format, manifest_digest, total_bytes, params, metrics, lineage, io, validation, published_by, published_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${held.sql}`,
      )
      .bind(
        upload.model_id,
        version,
        req.label ?? null,
        status,
        req.format,
        digest,
        totalBytes,
        JSON.stringify(req.params ?? {}),
        JSON.stringify(req.metrics ?? { values: {} }),
        JSON.stringify(req.lineage ?? {}),
        JSON.stringify(result.ok ? result.io : (req.io ?? {})),
        JSON.stringify(validation),
        op.actor,
        at,
        ...held.params,
      ),
    ...(result.ok
      ? [...new Set(req.chunks.map((c) => c.digest))].map((d) =>
          db
            .prepare(
              `INSERT INTO chunk_refs (digest, version_id) SELECT ?, id FROM versions WHERE model_id = ? AND version = ? AND ${held.sql}`,
            )
            .bind(d, upload.model_id, version, ...held.params),
        )
      : []),
    auditStatementIf(
      db,
      {
        actor: op.actor,
        action: result.ok ? 'version.publish' : 'version.reject',
        subject: `model/${upload.model}/version/${version}`,
        after: { status, manifestDigest: digest, totalBytes, reasons: validation.reasons },
      },
      at,
      held.sql,
      held.params,
    ),
    db
      .prepare(
        `UPDATE uploads SET state = 'committed', version = ?, claim = NULL, manifest = NULL WHERE id = ? AND claim = ? AND state = 'open'`,
      )
      .bind(version, uploadId, claim.token),
  ];
}

/** This commit ran past its lease and a retry took the upload over: that one decides. */
function lostClaim(uploadId: string): ApiError {
  return new ApiError(
    'conflict',
    `this commit of upload ${uploadId} ran past its lease (COMMIT_LEASE_SECONDS) and another commit took it over; nothing was written by this one`,
  );
}
