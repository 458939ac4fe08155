/**
 * @module layouts
 * A served version's manifest digest and sketch layout, as the edge checks uploads against them
 * and the control plane decodes the aggregates it closes. Digests are cached per isolate for the
 * caller's TTL; a layout is cached by its manifest digest for good (it is immutable).
 */
import {
  type SketchLayout,
  fromBase64,
  manifestDigest,
  parseEnvelope,
  parseManifest,
  sketchLayout,
} from '@modelfleet/protocol';
import { ApiError } from './http-error.ts';
import { r2Key } from './storage-keys.ts';
import { TtlCache } from './ttl-cache.ts';

/** The registry bindings these reads need. */
export interface RegistryReader {
  DB: D1Database;
  ARTIFACTS: R2Bucket;
}

const versions = new TtlCache<string>();
const layouts = new Map<string, Promise<SketchLayout | null>>(); // by manifest digest: immutable

/** The manifest digest of a served (active) version; unknown_model / unknown_version otherwise. */
export async function activeManifestDigest(
  env: RegistryReader,
  model: string,
  version: number,
  ttlMs: number,
): Promise<string> {
  return versions.get(`${model}@${version}`, ttlMs, Date.now(), async () => {
    const row = await env.DB.prepare(
      'SELECT v.manifest_digest AS digest, v.status FROM models m LEFT JOIN versions v ON v.model_id = m.id AND v.version = ? WHERE m.name = ?',
    )
      .bind(version, model)
      .first<{ digest: string | null; status: string | null }>();
    if (!row) throw new ApiError('unknown_model', `no model named ${model}`);
    if (!row.digest || row.status !== 'active')
      throw new ApiError('unknown_version', `model ${model} has no served version ${version}`);
    return row.digest;
  });
}

/** The sketch layout of a served version, or null when it has no monitoring baseline. */
export async function layoutForVersion(
  env: RegistryReader,
  model: string,
  version: number,
  ttlMs = 0,
): Promise<SketchLayout | null> {
  return layoutFor(env, await activeManifestDigest(env, model, version, ttlMs));
}

export function layoutFor(env: RegistryReader, digest: string): Promise<SketchLayout | null> {
  let layout = layouts.get(digest);
  if (!layout) {
    layout = (async () => {
      const object = await env.ARTIFACTS.get(r2Key.manifest(digest));
      if (!object) throw new ApiError('unknown_version', `manifest ${digest} is missing`);
      const payload = fromBase64(parseEnvelope(await object.text(), 'manifest').payload);
      if ((await manifestDigest(payload)) !== digest)
        throw new ApiError('internal', `stored manifest ${digest} does not match its name`);
      const baseline = parseManifest(payload).monitoring.baseline;
      return baseline ? sketchLayout(baseline) : null;
    })();
    layout.catch(() => layouts.delete(digest));
    layouts.set(digest, layout);
  }
  return layout;
}
