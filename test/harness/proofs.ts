/**
 * @module proofs (test harness)
 * Upload proofs for tests that play a device without fetching its ticket first: minted with the
 * Worker's own ticket secret for exactly the claims its ticket route would give (the version in
 * the path; for a named rollout, the challenger or control range and the model's current
 * sequence). Tests of the proof itself (test/security/) fetch real tickets instead and pass
 * `proof: null` to send none.
 */
import type { D1Database } from '@cloudflare/workers-types';
import { APP_KEY_HEADER, PROOF_HEADER, type ProofClaims, sha256Hex, utf8, windowOf } from '@modelfleet/protocol';
import { mintProof, proofKey } from '../../edge-runtime/src/proof-mac.ts';

/** The app an app key belongs to, looked up as the edge does (by the key's SHA-256, or 'plain:' for keys from before migration 0008). */
const appOf = async (db: D1Database, key: string) =>
  db
    .prepare('SELECT app_id AS id FROM app_keys WHERE key_hash IN (?, ?)')
    .bind(await sha256Hex(utf8(key)), `plain:${key}`)
    .first<{ id: string }>();

const UPLOAD = /^\/v1\/edge\/(sketches|health|step-health|step-sketches)\/([^/?]+)\/(\d+)\?(.*)$/;

/** An admin read of the Worker's API. */
export type AdminGet = (path: string) => Promise<Response>;

/**
 * Proofs for the uploads a test sends: the claims (the model's sequence, the rollout's challenger)
 * come from the API as the ticket route reads them; each app key's app is looked up once.
 */
export function uploadProofs(db: D1Database, ticketSecret: string, get: AdminGet) {
  const apps = new Map<string, string>();
  const appId = async (key: string): Promise<string | null> => {
    const id = apps.get(key) ?? (await appOf(db, key))?.id ?? null;
    if (id) apps.set(key, id);
    return id;
  };
  const json = async <T>(path: string): Promise<T | null> => {
    const res = await get(path);
    return res.ok ? ((await res.json()) as T) : null;
  };
  /** The proof a device's ticket would carry for this upload path, or null when the path is not an upload. */
  return async (path: string, headers: Headers): Promise<string | null> => {
    const m = UPLOAD.exec(path);
    const key = headers.get(APP_KEY_HEADER);
    if (!m || !key) return null;
    const query = new URLSearchParams(m[4]);
    const device = query.get('device');
    const app = await appId(key);
    if (!device || !app) return null;
    const model = decodeURIComponent(m[2]!);
    const version = Number(m[3]);
    const rollout = query.get('rollout');
    const [view, run] = await Promise.all([
      json<{ sequence: number }>(`/v1/models/${encodeURIComponent(model)}`),
      rollout ? json<{ model: string; challenger: number }>(`/v1/rollouts/${encodeURIComponent(rollout)}`) : null,
    ]);
    const challenger = run?.model === model ? run.challenger : null;
    const inRollout = rollout !== null && challenger !== null;
    return mintProof(
      proofKey(ticketSecret),
      { app, device, model },
      {
        day: windowOf(new Date()),
        version,
        sequence: view?.sequence ?? 0,
        attested: false,
        stage: inRollout ? (challenger === version ? 'challenger' : 'control') : 'champion',
        rollout: inRollout ? rollout : null,
      },
    );
  };
}

export { PROOF_HEADER };

type Assigned = Pick<ProofClaims, 'stage' | 'sequence' | 'rollout'>;

/**
 * A fast minter for simulations and benchmarks: proofs of today for one app's devices (the app
 * looked up once), champion-stage unless the ticket's assignment is given.
 */
export async function proofMinter(
  db: D1Database,
  ticketSecret: string,
  appKey: string,
): Promise<(model: string, version: number, device: string, assigned?: Assigned) => Promise<string>> {
  const app = await appOf(db, appKey);
  if (!app) throw new Error('unknown app key');
  const key = proofKey(ticketSecret);
  const day = windowOf(new Date());
  return async (model, version, device, assigned = { stage: 'champion', sequence: 0, rollout: null }) =>
    mintProof(key, { app: app.id, device, model }, { day, version, attested: false, ...assigned });
}
