/**
 * @module sim/rollout-sim
 * The rollout fleet simulator: bucketing uniformity over many salts, and simulated devices driven
 * against the real Worker (workerd) through a rollout — flip-flops while the percentage grows, and
 * how fast and how completely the kill switch brings the fleet back to the champion.
 */
import { createHash } from 'node:crypto';
import { BUCKETS, fromBase64, rolloutCohort } from '@modelfleet/protocol';
import { normalCdf } from '../../control-plane/src/drift/math.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createApp } from '../fixtures/drift.ts';
import { createModel, publish } from '../harness/publish.ts';
import { startWorker } from '../harness/worker.ts';

/** SHA-256 bucketing with node:crypto (the vectors prove it equals protocol's bucketOf). */
export const bucket = (salt: string, id: string) =>
  createHash('sha256').update(`${salt}:${id}`).digest().readUInt32BE(0) % BUCKETS;

/** χ² survival for large df by Wilson–Hilferty (accurate to ~1e-4 at df ≈ 10⁴). */
function chi2SurvivalLarge(x: number, k: number): number {
  const z = (Math.cbrt(x / k) - (1 - 2 / (9 * k))) / Math.sqrt(2 / (9 * k));
  return 1 - normalCdf(z);
}

export interface UniformityResult {
  salts: number;
  ids: number;
  passed: number;
  alpha: number;
  worstP: number;
}

export function bucketingUniformity(salts: number, ids: number, alpha = 0.001): UniformityResult {
  let passed = 0;
  let worstP = 1;
  const expected = ids / BUCKETS;
  for (let s = 0; s < salts; s++) {
    const counts = new Uint32Array(BUCKETS);
    const salt = `sim-salt-${s}`;
    for (let i = 0; i < ids; i++) counts[bucket(salt, `device-${i}`)]!++;
    let chi2 = 0;
    for (const c of counts) chi2 += (c - expected) ** 2 / expected;
    const p = chi2SurvivalLarge(chi2, BUCKETS - 1);
    worstP = Math.min(worstP, p);
    if (p >= alpha) passed++;
  }
  return { salts, ids, passed, alpha, worstP };
}

export interface FleetResult {
  devices: number;
  steps: number[];
  /** Devices that were on the challenger at one step and back on the champion at a later one. */
  flipFlops: number;
  /** Challenger share observed at each step. */
  shares: number[];
  /** From the kill API call returning to the first champion ticket for a challenger device (ms). */
  killToChampionMs: number;
  /** Share of devices whose tickets say champion at their first poll ≥ 2 poll intervals after the kill. */
  backWithinTwoPolls: number;
  requests: number;
}

export interface TicketBody {
  version: number;
  stage: string;
}

export async function fleetRollout(
  devices: number,
  opts: { concurrency?: number; cacheTtlMs?: number } = {},
): Promise<FleetResult> {
  const cacheTtlMs = opts.cacheTtlMs ?? 5000; // production default: isolates reuse an assignment for 5 s
  const worker = await startWorker({ http: true, vars: { EDGE_CACHE_TTL_MS: String(cacheTtlMs) } });
  let requests = 0;
  try {
    await createModel(worker, 'fleet');
    for (const seed of [1, 2]) await publish(worker, 'fleet', await buildLayersModel({ seed }));
    await worker.api('/v1/models/fleet/aliases/champion', { method: 'PUT', json: { version: 1 } });
    const appKey = await createApp(worker);
    const ticket = async (device: string): Promise<TicketBody> => {
      requests++;
      const res = await fetch(`${worker.url}/v1/edge/tickets/fleet?device=${device}`, {
        headers: { 'x-modelfleet-app-key': appKey },
      });
      const env = (await res.json()) as { payload: string };
      return JSON.parse(new TextDecoder().decode(fromBase64(env.payload))) as TicketBody;
    };
    const ids = Array.from({ length: devices }, (_, i) => `sim-${i}`);
    const pollAll = async () => {
      const out = new Array<number>(devices);
      let next = 0;
      await Promise.all(
        Array.from({ length: opts.concurrency ?? 16 }, async () => {
          while (next < devices) {
            const i = next++;
            out[i] = (await ticket(ids[i]!)).version;
          }
        }),
      );
      return out;
    };
    const steps = [1, 5, 25, 50, 100];
    const created = await worker.api('/v1/models/fleet/rollouts', {
      method: 'POST',
      json: { challenger: 2, plan: { steps: steps.map((percent) => ({ percent, bakeSeconds: 3600 })) } },
    });
    const { id } = (await created.json()) as { id: string };
    const everChallenger = new Set<number>();
    let flipFlops = 0;
    const shares: number[] = [];
    for (let s = 0; s < steps.length - 1; s++) {
      if (s > 0) await worker.api(`/v1/rollouts/${id}/promote`, { method: 'POST', json: { step: s - 1 } });
      await new Promise((r) => setTimeout(r, cacheTtlMs + 100)); // let isolate caches expire, as devices would
      const versions = await pollAll();
      versions.forEach((v, i) => {
        if (v === 2) everChallenger.add(i);
        else if (everChallenger.has(i)) flipFlops++;
      });
      shares.push(versions.filter((v) => v === 2).length / devices);
    }
    // Kill switch: how long until a challenger device is told "champion", then the whole fleet.
    const canary = ids[[...everChallenger][0]!]!;
    const killed = Date.now();
    await worker.api(`/v1/rollouts/${id}/kill`, { method: 'POST', json: {} });
    const afterKill = Date.now();
    while ((await ticket(canary)).version !== 1) await new Promise((r) => setTimeout(r, 50));
    const killToChampionMs = Date.now() - afterKill;
    // Devices poll every P (SDK default 15 min, ±20 % jitter): every device polls at least once in
    // (kill + latency, kill + latency + 1.2 P] ⊂ 2 P, so its first poll after that is what counts.
    const versions = await pollAll();
    void killed;
    return {
      devices,
      steps: steps.slice(0, -1),
      flipFlops,
      shares,
      killToChampionMs,
      backWithinTwoPolls: versions.filter((v) => v === 1).length / devices,
      requests,
    };
  } finally {
    await worker.dispose();
  }
}

export { rolloutCohort };
