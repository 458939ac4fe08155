/**
 * @module telemetry/proofs
 * The upload proofs the edge returns with tickets (SPEC 11.1), kept per model and version in the
 * store's meta table: an upload for a version carries the latest proof of that version, and the
 * newest proof of a model tells whether the device is attested today.
 */
import { type ProofClaims, readProof } from '@modelfleet/protocol';
import { type Report, silent } from '../report.ts';
import type { ModelStore } from '../store.ts';

const versionKey = (model: string, version: number) => `proof:${model}@${version}`;
const latestKey = (model: string) => `proof:${model}`;

/** Stores a proof the edge returned; one it cannot read is ignored (uploads then go without, and are refused). */
export async function keepProof(store: ModelStore, model: string, proof: string): Promise<void> {
  const claims = readProof(proof);
  if (!claims) return;
  const tx = store.db.transaction('meta', 'readwrite');
  await Promise.all([
    tx.store.put(proof, versionKey(model, claims.version)),
    tx.store.put(proof, latestKey(model)),
    tx.done,
  ]);
}

/** An unreadable proof is reported and treated as none (the upload goes without and is refused). */
export async function proofFor(
  store: ModelStore,
  model: string,
  version: number,
  report: Report = silent,
): Promise<string | undefined> {
  return store.db
    .get('meta', versionKey(model, version))
    .catch((e) => void report('storage_read', e, { model, version }));
}

/** An unreadable proof is reported and treated as none (the ticket request then asks for attestation). */
export async function latestProof(
  store: ModelStore,
  model: string,
  report: Report = silent,
): Promise<ProofClaims | null> {
  const proof = await store.db.get('meta', latestKey(model)).catch((e) => void report('storage_read', e, { model }));
  return proof ? readProof(proof) : null;
}
