/**
 * @module artifacts
 * Turns a stored, verified manifest and its chunks into TF.js model artifacts: the topology from
 * the manifest, the weight specs in buffer order, and one ArrayBuffer of weights (transferable
 * to the inference worker without a copy).
 */
import { type Manifest, parseManifest } from '@modelfleet/protocol';
import { SdkError } from './errors.ts';
import type { ModelStore, VersionRef } from './store.ts';

export interface ModelArtifacts {
  format: Manifest['format'];
  model: string;
  version: number;
  digest: string;
  modelJson: Record<string, unknown>;
  weightSpecs: { name: string; shape: number[]; dtype: string; quantization?: Record<string, unknown> }[];
  weightData: ArrayBuffer;
  io: Manifest['io'];
  backends: Manifest['runtime']['backends'];
}

/**
 * `fresh` holds chunks just downloaded and verified, and `verified` the manifest the sync just
 * verified and stored, so neither is read back from IndexedDB.
 */
export async function loadArtifacts(
  store: ModelStore,
  ref: VersionRef,
  fresh?: Map<string, Uint8Array>,
  verified?: Manifest,
): Promise<ModelArtifacts> {
  let manifest = verified;
  if (!manifest) {
    const stored = await store.getManifest(ref.digest);
    if (!stored) throw new SdkError('no_model', `manifest ${ref.digest} is not in the cache; sync again`);
    manifest = parseManifest(stored.payload);
  }
  const weightData = new Uint8Array(manifest.totalBytes);
  let offset = 0;
  for (const chunk of manifest.chunks) {
    const bytes = fresh?.get(chunk.digest) ?? (await store.getChunk(chunk.digest));
    if (!bytes || bytes.byteLength !== chunk.size)
      throw new SdkError('no_model', `chunk ${chunk.digest} is missing from the cache; sync again`);
    weightData.set(new Uint8Array(bytes), offset);
    offset += chunk.size;
  }
  return {
    format: manifest.format,
    model: manifest.model,
    version: manifest.version,
    digest: ref.digest,
    modelJson: manifest.modelJson,
    weightSpecs: manifest.weights.map((w) => ({
      name: w.name,
      shape: w.shape,
      dtype: w.dtype,
      ...(w.quantization ? { quantization: w.quantization } : {}),
    })),
    weightData: weightData.buffer,
    io: manifest.io,
    backends: manifest.runtime.backends,
  };
}
