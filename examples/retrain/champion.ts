/**
 * @module retrain/champion
 * Downloads the model a version serves, as a device gets it: the operator API names the version
 * and its manifest digest; the edge's documented content routes (GET /v1/edge/manifests/{digest},
 * /v1/edge/chunks/{digest}, SPEC §2 and §5) serve the signed manifest and the weight chunks.
 * Every byte is checked against its digest; with a pinned root the manifest's release
 * signatures are verified too (SPEC 1.1–2.4), so a champion is scored only if devices would run it.
 *
 * @example
 * const { version, model } = await downloadVersion({ endpoint, token }, 'fraud', 'champion', rootEnvelope);
 */
import {
  type Envelope,
  type Manifest,
  type VersionSummary,
  fromBase64,
  manifestDigest,
  parseEnvelope,
  parseManifest,
  updateRoot,
  verifyChunk,
  verifyManifest,
  verifyPinnedRoot,
} from '@modelfleet/protocol';
import * as tf from '@tensorflow/tfjs';
import { useCpu } from './train.ts';

export interface ControlPlane {
  endpoint: string;
  token: string;
}

/** GET an operator or edge route; a refusal throws with the control plane's error code. */
async function get(cp: ControlPlane, path: string): Promise<Response> {
  const res = await fetch(`${cp.endpoint}${path}`, { headers: { authorization: `Bearer ${cp.token}` } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res;
}

/** The version an alias names (or the version itself), with its summary. */
export async function versionOf(cp: ControlPlane, model: string, ref: number | string): Promise<VersionSummary> {
  let version = ref;
  if (typeof ref === 'string') {
    const { aliases } = (await (await get(cp, `/v1/models/${model}`)).json()) as { aliases: Record<string, number> };
    version = aliases[ref] ?? NaN;
    if (!Number.isInteger(version)) throw new Error(`${model} has no ${ref} alias`);
  }
  return (await (await get(cp, `/v1/models/${model}/versions/${version}`)).json()) as VersionSummary;
}

/**
 * An active version already retrained from `parent` (its lineage names it), if any: the control
 * plane asks again at every window that still drifts, and one challenger per episode is enough
 * — it is in its rollout, or an operator is looking at it.
 */
export async function retrainedFrom(cp: ControlPlane, model: string, parent: number): Promise<number | null> {
  const { versions } = (await (await get(cp, `/v1/models/${model}/versions`)).json()) as {
    versions: { version: number; status: string; lineage?: { parentVersion?: number } }[];
  };
  return versions.find((v) => v.status === 'active' && v.lineage?.parentVersion === parent)?.version ?? null;
}

export async function downloadVersion(
  cp: ControlPlane,
  model: string,
  ref: number | string,
  root?: Envelope,
): Promise<{ version: number; manifest: Manifest; model: tf.LayersModel }> {
  const summary = await versionOf(cp, model, ref);
  const digest = summary.manifestDigest;
  if (!digest) throw new Error(`${model} v${summary.version} has no manifest (status ${summary.status})`);
  const envelope = parseEnvelope(await (await get(cp, `/v1/edge/manifests/${digest}`)).text(), `manifest ${digest}`);
  let manifest: Manifest;
  if (root) {
    const pinned = await verifyPinnedRoot(root);
    const { roots } = (await (await get(cp, `/v1/edge/roots?since=${pinned.version}`)).json()) as { roots: Envelope[] };
    manifest = (await verifyManifest(envelope, digest, await updateRoot(pinned, roots, new Date()))).manifest;
  } else {
    // Without a pinned root, the digest the authenticated operator API named is the check.
    const payload = fromBase64(envelope.payload);
    if ((await manifestDigest(payload)) !== digest)
      throw new Error(`manifest of ${model} v${summary.version} does not hash to ${digest}`);
    manifest = parseManifest(payload);
  }
  const weights = new Uint8Array(manifest.totalBytes);
  let offset = 0;
  for (const chunk of manifest.chunks) {
    const bytes = new Uint8Array(await (await get(cp, `/v1/edge/chunks/${chunk.digest}`)).arrayBuffer());
    await verifyChunk(bytes, chunk);
    weights.set(bytes, offset);
    offset += chunk.size;
  }
  await useCpu();
  const loaded = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelJson.modelTopology as tf.io.ModelJSON['modelTopology'],
      weightSpecs: manifest.weights.map((w) => ({
        name: w.name,
        shape: w.shape,
        dtype: w.dtype as 'float32',
        ...(w.quantization ? { quantization: w.quantization } : {}),
      })),
      weightData: weights.buffer,
    }),
  );
  return { version: summary.version, manifest, model: loaded };
}
