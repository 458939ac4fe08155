/**
 * @module rollout-power-setup (test/security)
 * What the rollout-power suites share: the Worker and its model, the publisher token, the
 * requests that start or preview a rollout, counts of rollouts and audit records, and `fleet`,
 * which seeds the daily health windows the power analysis reads.
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { createToken } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

export let worker: TestWorker;
export let ci: string;
export let modelId: number;
export const evalSet = 'e'.repeat(64);
export const gate = { metric: 'auc', margin: 0.01 };

export const rollouts = async () =>
  (await worker.db.prepare('SELECT COUNT(*) AS n FROM rollouts').first<{ n: number }>())!.n;
export const creates = async () =>
  (await worker.db.prepare("SELECT COUNT(*) AS n FROM audit WHERE action = 'rollout.create'").first<{ n: number }>())!
    .n;
export const start = (plan: unknown, token?: string) =>
  worker.api('/v1/models/fraud/rollouts', {
    method: 'POST',
    ...(token ? { token } : {}),
    json: { challenger: 2, plan },
  });
export const preview = (plan: unknown, token?: string) =>
  worker.api('/v1/models/fraud/rollouts/preview', { method: 'POST', ...(token ? { token } : {}), json: { plan } });
export const abortLive = async () => {
  const live = await worker.db
    .prepare("SELECT id FROM rollouts WHERE state IN ('draft', 'running', 'paused')")
    .first<{ id: string }>();
  if (live) expect((await worker.api(`/v1/rollouts/${live.id}/abort`, { method: 'POST', json: {} })).status).toBe(200);
};
/** A week of daily health windows, `devices` a day, split between the champion and another version. */
export async function fleet(devices: number | null) {
  await worker.db.prepare("DELETE FROM drift_windows WHERE cohort IN ('health', 'health-control')").run();
  if (devices === null) return;
  for (let w = 0; w < 7; w++) {
    for (const [version, share] of [
      [1, 0.75],
      [2, 0.25],
    ] as const) {
      await worker.db
        .prepare(
          "INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, closed_at) VALUES (?, ?, ?, 'health', ?, 0, ?)",
        )
        .bind(modelId, version, 20_400 + w, Math.round(devices * share), new Date().toISOString())
        .run();
    }
  }
}

/**
 * The suite's hooks: a Worker with model `fraud` (v1 champion at auc 0.8, v2 at 0.83 on the same
 * evaluation set) and a publisher token; any live rollout is aborted before each test.
 */
export function usePowerFleet(): void {
  beforeAll(async () => {
    worker = await startWorker({ http: true });
    await createModel(worker, 'fraud');
    expect(
      (
        await publish(worker, 'fraud', await buildLayersModel({ seed: 1 }), {
          metrics: { evalSetDigest: evalSet, values: { auc: 0.8 } } as never,
        })
      ).res.status,
    ).toBe(201);
    await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
    expect(
      (
        await publish(worker, 'fraud', await buildLayersModel({ seed: 2 }), {
          metrics: { evalSetDigest: evalSet, values: { auc: 0.83 } } as never,
        })
      ).res.status,
    ).toBe(201);
    ci = await createToken(worker, 'publisher');
    modelId = (await worker.db.prepare("SELECT id FROM models WHERE name = 'fraud'").first<{ id: number }>())!.id;
  });
  beforeEach(abortLive);
  afterAll(() => worker?.dispose());
}
