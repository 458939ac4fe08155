/**
 * @module registry/artifacts
 * A stored version back as TF.js artifacts: its manifest from R2 (checked against the digest D1
 * names), then its chunks in order (each re-hashed), concatenated into the weight buffer the
 * manifest's tensor offsets point into. What comes back is what devices run, byte for byte.
 *
 * @example
 * const v = await loadVersionArtifacts(env, 'fraud', 2);
 * const outcome = await engine.loadFromMemory(v.format, v.modelJson, v.weightData);
 */
import { ApiError, r2Key } from '@modelfleet/server-shared';
import {
  type IoSchema,
  type Manifest,
  type TfjsModelJson,
  fromBase64,
  parseEnvelope,
  parseManifest,
  sha256Hex,
} from '@modelfleet/protocol';
import type { Env } from '../env.ts';

export interface VersionArtifacts {
  format: Manifest['format'];
  /** model.json as uploaded: the manifest's topology with a weightsManifest rebuilt from its tensors. */
  modelJson: TfjsModelJson;
  weightData: ArrayBuffer;
  io: IoSchema;
  manifestDigest: string;
}

const corrupt = (what: string) =>
  new ApiError('internal', `${what} in R2 does not match its digest; the registry's storage needs attention`);

export async function loadVersionArtifacts(env: Env, model: string, version: number): Promise<VersionArtifacts> {
  const row = await env.DB.prepare(
    'SELECT v.status, v.manifest_digest FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? AND v.version = ?',
  )
    .bind(model, version)
    .first<{ status: string; manifest_digest: string | null }>();
  if (!row) throw new ApiError('unknown_version', `model ${model} has no version ${version}`);
  if (row.status !== 'active' || !row.manifest_digest)
    throw new ApiError(
      'version_rejected',
      `version ${version} of ${model} failed validation; it has no stored model to evaluate`,
    );

  const digest = row.manifest_digest;
  const object = await env.ARTIFACTS.get(r2Key.manifest(digest));
  if (!object) throw new ApiError('internal', `manifest ${digest} of ${model} v${version} is missing from R2`);
  const payload = fromBase64(parseEnvelope(new Uint8Array(await object.arrayBuffer()), 'manifest').payload);
  if ((await sha256Hex(payload)) !== digest) throw corrupt(`manifest ${digest}`);
  const manifest = parseManifest(payload);

  const weights = new Uint8Array(manifest.totalBytes);
  let offset = 0;
  for (const chunk of manifest.chunks) {
    const stored = await env.ARTIFACTS.get(r2Key.chunk(chunk.digest));
    if (!stored) throw new ApiError('internal', `chunk ${chunk.digest} of ${model} v${version} is missing from R2`);
    const bytes = new Uint8Array(await stored.arrayBuffer());
    if (bytes.byteLength !== chunk.size || (await sha256Hex(bytes)) !== chunk.digest)
      throw corrupt(`chunk ${chunk.digest}`);
    weights.set(bytes, offset);
    offset += chunk.size;
  }
  // Tensors lie in the buffer in manifest order (planChunks), which is the weightsManifest order.
  const specs = manifest.weights.map(({ name, dtype, shape, quantization }) => ({
    name,
    dtype,
    shape,
    ...(quantization ? { quantization } : {}),
  }));
  const modelJson = {
    ...manifest.modelJson,
    weightsManifest: [{ paths: [], weights: specs }],
  } as unknown as TfjsModelJson;
  return { format: manifest.format, modelJson, weightData: weights.buffer, io: manifest.io, manifestDigest: digest };
}
