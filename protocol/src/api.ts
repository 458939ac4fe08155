/**
 * @module api
 * Request and response bodies of the control plane's REST API (/v1). Requests are strict:
 * an unknown field is refused (`unknown_field`) rather than silently dropped, because an
 * operator who misspells `parentVersion` should hear about it at publish time.
 */
import { z } from 'zod';
import { Baseline } from './baseline.ts';
import { Golden } from './golden.ts';
import { IoSchema } from './io-schema.ts';
import { MAX_JSON_DEPTH, depthWithin } from './json-depth.ts';
import {
  Digest,
  Explanations,
  Lineage,
  ManifestChunk,
  Metrics,
  ModelFormat,
  ModelName,
  RuntimeRequirements,
} from './manifest.ts';
import { TfjsModelJson } from './tfjs-model.ts';

/** `GET /v1/health`: the Worker answers. */
export const HealthStatus = z.object({ ok: z.literal(true) });

export const OperatorRole = z.enum(['viewer', 'publisher', 'operator', 'admin']);
export type OperatorRole = z.infer<typeof OperatorRole>;
/** Roles are ordered: each includes the rights of the ones before it. */
export const ROLE_RANK: Record<OperatorRole, number> = { viewer: 0, publisher: 1, operator: 2, admin: 3 };

export const AliasName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase letter first, then letters, digits, "_" or "-"');

export const CreateModelRequest = z.strictObject({
  name: ModelName,
  description: z.string().max(1024).optional(),
});

/**
 * The most bytes one upload request (step 1: model.json, golden examples, baseline, metadata)
 * may have; weights travel as chunks. Server and clients share it, as they share the chunk
 * limit, so a client can name the file that does not fit before sending it. 8 MiB holds one
 * honest golden example of an image model with room for a large graph topology: a 224×224×3
 * float32 image is 2.8 MiB of JSON (0.5 MiB as uint8 integers), handtrack at 320×320 with all
 * eight outputs 3.9 MiB, its topology 0.6 MiB. The Worker parses, re-serialises and later
 * re-parses this body beside the model's weights within 128 MB, so it is not raised further.
 */
export const MAX_UPLOAD_REQUEST_BYTES = 8 * 2 ** 20;

/** Explanations as a publisher writes them: only the methods the console knows how to show, no stray fields. */
export const ExplanationsRequest = z.strictObject({ ...Explanations.shape, method: z.literal('permutation') });
export type ExplanationsRequest = z.infer<typeof ExplanationsRequest>;

export const UploadRequest = z.strictObject({
  format: ModelFormat,
  modelJson: TfjsModelJson,
  /** The client's chunk plan (planChunks) with digests; the server recomputes and checks it. */
  chunks: z.array(ManifestChunk).max(65536),
  label: z.string().max(128).optional(),
  io: z.optional(IoSchema),
  golden: Golden.optional(),
  baseline: z.optional(Baseline),
  // Manifests read these tolerantly; a publisher writing them gets told about typos.
  metrics: z.strictObject({ ...Metrics.shape, explanations: ExplanationsRequest.optional() }).optional(),
  params: z
    .record(z.string(), z.unknown())
    .refine((p) => depthWithin(p, MAX_JSON_DEPTH), `params may nest at most ${MAX_JSON_DEPTH} levels`)
    .optional(),
  lineage: z.strictObject(Lineage.shape).optional(),
  runtime: z.strictObject(RuntimeRequirements.shape).optional(),
});
export type UploadRequest = z.infer<typeof UploadRequest>;

export const UploadResponse = z.object({
  uploadId: z.string(),
  model: ModelName,
  expiresAt: z.iso.datetime(),
  totalBytes: z.number().int(),
  /** Chunks the registry does not hold yet; only these need to be sent. */
  missing: z.array(Digest),
});
export type UploadResponse = z.infer<typeof UploadResponse>;

/** `stored`: written now; `repaired`: the stored bytes no longer matched their digest and were replaced. */
export const ChunkPutResponse = z.object({
  digest: Digest,
  size: z.number().int(),
  stored: z.boolean(),
  repaired: z.optional(z.literal(true)),
});

export const ValidationCheck = z.object({
  name: z.string(),
  ok: z.boolean(),
  ms: z.number(),
  detail: z.string().optional(),
});

export const VersionStatus = z.enum(['active', 'rejected']);

export const VersionSummary = z.object({
  model: ModelName,
  version: z.number().int(),
  label: z.string().nullable(),
  status: VersionStatus,
  format: ModelFormat,
  manifestDigest: z.nullable(Digest),
  totalBytes: z.number().int(),
  metrics: z.record(z.string(), z.unknown()),
  params: z.record(z.string(), z.unknown()),
  lineage: z.record(z.string(), z.unknown()),
  validation: z.object({
    checks: z.array(ValidationCheck),
    reasons: z.array(z.object({ code: z.string(), message: z.string() })),
  }),
  aliases: z.array(AliasName),
  publishedBy: z.string(),
  publishedAt: z.iso.datetime(),
});
export type VersionSummary = z.infer<typeof VersionSummary>;

export const ModelSummary = z.object({
  name: ModelName,
  description: z.string(),
  sequence: z.number().int(),
  aliases: z.record(z.string(), z.number().int()),
  latestVersion: z.number().int().nullable(),
  createdAt: z.iso.datetime(),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

export const ModelList = z.object({ models: z.array(ModelSummary) });
export const VersionList = z.object({ versions: z.array(VersionSummary) });

/** `POST /v1/uploads/{upload}/commit`: the version as validated, signed and stored (or rejected). */
export const CommitResponse = z.object({
  model: z.string(),
  version: z.number().int(),
  status: VersionStatus,
  manifestDigest: z.nullable(Digest),
  totalBytes: z.number().int(),
  reasons: z.array(z.object({ code: z.string(), message: z.string() })),
  checks: z.array(ValidationCheck),
});
export type CommitResponse = z.infer<typeof CommitResponse>;

/**
 * Moves an alias. With `ifVersion` the move happens only if the alias points there now (null: only
 * if it is not set yet), else 409 `conflict` with the current version: a compare-and-swap.
 */
export const SetAliasRequest = z.strictObject({
  version: z.number().int().min(1),
  ifVersion: z.number().int().min(1).nullable().optional(),
  reason: z.string().max(512).optional(),
});

export const CreateTokenRequest = z.strictObject({
  role: OperatorRole,
  label: z.string().max(128).optional(),
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(366 * 86400)
    .optional(),
});
export const CreateTokenResponse = z.object({
  id: z.string(),
  token: z.string(),
  role: OperatorRole,
  expiresAt: z.iso.datetime().nullable(),
});

export const CreateAppRequest = z.strictObject({
  name: z.string().min(1).max(128),
  /** Model names this app's devices may fetch tickets for; ['*'] for all. */
  models: z
    .array(z.union([ModelName, z.literal('*')]))
    .min(1)
    .max(256),
});
export const CreateAppResponse = z.object({
  id: z.string(),
  appKey: z.string(),
  name: z.string(),
  models: z.array(z.string()),
});

export const AuditRecord = z.object({
  id: z.number().int(),
  at: z.iso.datetime(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  reason: z.string().nullable(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** 202 answer to a device's sketch upload (POST /v1/edge/sketches/{model}/{version}). */
export const SketchAccepted = z.object({
  accepted: z.literal(true),
  devices: z.number().int(),
  window: z.number().int(),
});
export type SketchAccepted = z.infer<typeof SketchAccepted>;
