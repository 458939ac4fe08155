/**
 * @module manifest
 * The model manifest: everything a device needs to fetch, verify and run one model version.
 * Weights are content-addressed chunks aligned to tensor boundaries (docs/architecture.md §4); the manifest's
 * own name is the SHA-256 of its exact bytes, and the release role signs those bytes.
 */
import * as z from 'zod/mini';
import { Baseline } from './baseline.ts';
import { sha256Hex, utf8 } from './encoding.ts';
import { type Envelope, PAYLOAD_TYPES, payloadJson, signEnvelope } from './envelope.ts';
import { parseOrThrow } from './errors.ts';
import { IoSchema } from './io-schema.ts';
import type { Signer } from './keys.ts';

export const Digest = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256'));
export const ModelName = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-", at most 64'));
export const ModelFormat = z.enum(['tfjs-layers', 'tfjs-graph']);
export type ModelFormat = z.infer<typeof ModelFormat>;
export const Backend = z.enum(['webgpu', 'wasm', 'cpu']);
export type Backend = z.infer<typeof Backend>;

export const ManifestChunk = z.object({ digest: Digest, size: z.int().check(z.minimum(1)) });
export type ManifestChunk = z.infer<typeof ManifestChunk>;

export const ManifestWeight = z.looseObject({
  name: z.string().check(z.minLength(1)),
  dtype: z.string().check(z.minLength(1)),
  shape: z.array(z.int().check(z.minimum(0))),
  quantization: z.optional(z.record(z.string(), z.unknown())),
  /** Byte offset and length in the concatenated weight buffer. */
  offset: z.int().check(z.minimum(0)),
  size: z.int().check(z.minimum(0)),
  /** Indices into `chunks` holding this tensor's bytes. */
  chunks: z.array(z.int().check(z.minimum(0))),
});

/** The most features `metrics.explanations` may name: a console comparison, not a data dump. */
export const MAX_EXPLAINED_FEATURES = 1000;

/**
 * Feature importance as the publisher measured it (issue 17): `features[name]` is the drop of
 * `metric` on the evaluation set `evalSetDigest` when that feature's column is permuted (larger:
 * the model leans on it more; near 0 or below: it does not). Self-reported, like `values`. Read
 * tolerantly (any method name, unknown fields kept); the publish request narrows `method` to the
 * ones the control plane knows (api.ts). z.number() takes finite numbers only (zod 4), and JSON
 * cannot carry NaN or Infinity anyway (they arrive as null and are refused).
 */
export const Explanations = z.looseObject({
  method: z.string().check(z.minLength(1), z.maxLength(64)),
  metric: z.string().check(z.minLength(1), z.maxLength(64)),
  evalSetDigest: Digest,
  features: z
    .record(z.string().check(z.minLength(1), z.maxLength(128)), z.number())
    .check(
      z.refine((f) => Object.keys(f).length <= MAX_EXPLAINED_FEATURES, `at most ${MAX_EXPLAINED_FEATURES} features`),
    ),
});
export type Explanations = z.infer<typeof Explanations>;

export const Metrics = z.looseObject({
  /** Digest of the evaluation set these values were computed on; comparisons need equal digests. */
  evalSetDigest: z.optional(Digest),
  values: z.record(z.string(), z.number()),
  explanations: z.optional(Explanations),
});
export type Metrics = z.infer<typeof Metrics>;

export const Lineage = z.looseObject({
  dataDigest: z.optional(Digest),
  codeCommit: z.optional(z.string().check(z.regex(/^[0-9a-f]{7,64}$/, 'a git commit id'))),
  parentVersion: z.optional(z.int().check(z.minimum(1))),
});
export type Lineage = z.infer<typeof Lineage>;

export const RuntimeRequirements = z.looseObject({
  /** Backends the model may run on, in order of preference. */
  backends: z._default(z.array(Backend).check(z.minLength(1)), ['webgpu', 'wasm', 'cpu']),
  minMemoryMB: z.optional(z.int().check(z.minimum(0))),
});
export type RuntimeRequirements = z.infer<typeof RuntimeRequirements>;

export const Manifest = z
  .looseObject({
    type: z.literal('modelfleet/manifest'),
    specVersion: z.literal(1),
    model: ModelName,
    version: z.int().check(z.minimum(1)),
    label: z.optional(z.string().check(z.maxLength(128))),
    format: ModelFormat,
    /** The uploaded model.json without its weightsManifest (topology, signature, metadata). */
    modelJson: z.record(z.string(), z.unknown()),
    weights: z.array(ManifestWeight),
    chunks: z.array(ManifestChunk),
    totalBytes: z.int().check(z.minimum(0)),
    io: IoSchema,
    runtime: RuntimeRequirements,
    monitoring: z.looseObject({ baseline: z.nullable(Baseline) }),
    metrics: Metrics,
    params: z.record(z.string(), z.unknown()),
    lineage: Lineage,
    publishedAt: z.iso.datetime(),
    publishedBy: z.string(),
  })
  .check(
    z.superRefine((m, ctx) => {
      const sum = m.chunks.reduce((n, c) => n + c.size, 0);
      if (sum !== m.totalBytes)
        ctx.addIssue({ code: 'custom', message: `chunk sizes add up to ${sum}, totalBytes says ${m.totalBytes}` });
      // Each tensor must lie inside the chunks it names, so a device can verify tensor by tensor.
      const starts: number[] = [];
      m.chunks.reduce((off, c) => (starts.push(off), off + c.size), 0);
      for (const w of m.weights) {
        if (w.size === 0) continue;
        const first = w.chunks[0];
        const last = w.chunks[w.chunks.length - 1];
        const ok =
          first !== undefined &&
          last !== undefined &&
          last < m.chunks.length &&
          w.chunks.every((c, i) => i === 0 || c === w.chunks[i - 1]! + 1) &&
          starts[first]! <= w.offset &&
          w.offset + w.size <= starts[last]! + m.chunks[last]!.size;
        if (!ok)
          ctx.addIssue({
            code: 'custom',
            message: `weight ${w.name} is not covered by the chunks it names`,
            path: ['weights'],
          });
      }
    }),
  );
export type Manifest = z.infer<typeof Manifest>;

/** The exact bytes that are signed, stored and named by their digest. */
export function serializeManifest(manifest: Manifest): Uint8Array {
  return utf8(JSON.stringify(manifest));
}

export function parseManifest(payload: Uint8Array): Manifest {
  return parseOrThrow(Manifest, payloadJson(payload, 'manifest'), 'manifest');
}

/** The manifest's name: SHA-256 of its payload bytes (stable when signatures are added later). */
export function manifestDigest(payload: Uint8Array): Promise<string> {
  return sha256Hex(payload);
}

export async function signManifest(
  manifest: Manifest,
  signers: Signer[],
): Promise<{ envelope: Envelope; digest: string; payload: Uint8Array }> {
  const payload = serializeManifest(manifest);
  return {
    envelope: await signEnvelope(PAYLOAD_TYPES.manifest, payload, signers),
    digest: await manifestDigest(payload),
    payload,
  };
}
