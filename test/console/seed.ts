/**
 * @module console/seed
 * Seeded data for the console suites and screenshots, through the public API of a real Worker:
 * two monitored models with three versions each (metrics on one evaluation set, lineage), a
 * drift window that alarms on a shifted feature beside a quiet one, tokens for each role, and
 * rollouts to act on; feature importance on fraud's v1 and v3 (v1 leans on the feature that
 * drifts), and v2's devices in the two open windows beside v1's (the fleet chart). Every write goes through the same routes an operator or device would use.
 */
import { type ExplanationsRequest, windowOf } from '@modelfleet/protocol';
import { baseline, createApp, createToken, uploadHealth, uploadSketch } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';

export const EVAL_SET = 'a'.repeat(64);
export interface Seeded {
  operator: string;
  viewer: string;
  publisher: string;
  appKey: string;
  today: number;
}

async function ok(res: Response | Promise<Response>, what: string): Promise<any> {
  const r = await res;
  const body = await r.json();
  if (!r.ok) throw new Error(`${what}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

/** Publishes `versions` monitored versions of `name`; metrics rise with the version, lineage chains them. */
export async function seedModel(
  worker: TestWorker,
  name: string,
  versions: number,
  opts: {
    description?: string;
    label?: (v: number) => string;
    explanations?: (v: number) => ExplanationsRequest | undefined;
  } = {},
) {
  await createModel(worker, name, opts.description);
  for (let v = 1; v <= versions; v++) {
    const { res, body } = await publish(
      worker,
      name,
      await buildLayersModel({ seed: 10 * v + name.length, inputs: 3 }),
      {
        baseline,
        label: opts.label?.(v) ?? `v${v} nightly`,
        metrics: {
          evalSetDigest: EVAL_SET,
          values: { auc: 0.9 + v / 100, logloss: 0.3 - v / 100 },
          ...(opts.explanations?.(v) ? { explanations: opts.explanations(v) } : {}),
        },
        lineage: { codeCommit: `abc${v}def0`, ...(v > 1 ? { parentVersion: v - 1 } : {}) },
      },
    );
    if (res.status !== 201) throw new Error(`publish ${name} v${v}: ${JSON.stringify(body)}`);
  }
  await ok(worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } }), 'champion');
}

/** A day of sketches from `devices` devices, feature f0 shifted by `shift` σ, then the window closes. */
export async function seedDriftWindow(
  worker: TestWorker,
  appKey: string,
  model: string,
  window: number,
  shift: number,
  devices = 30,
) {
  for (let d = 0; d < devices; d++) {
    const device = `${model}-${window}-${d}`;
    const res = await uploadSketch(worker, appKey, device, shift, { model, window });
    if (res.status !== 202) throw new Error(`sketch: ${res.status} ${await res.text()}`);
    await uploadHealth(
      worker,
      appKey,
      device,
      { load: { ok: 1 }, predict: { ok: 20 }, latencies: [2, 3, 4, 5], backend: { wasm: 20 } },
      { model, window },
    );
  }
  return ok(worker.api(`/v1/models/${model}/versions/1/sketches/${window}/close`, { method: 'POST' }), 'close');
}

/** Permutation importances (drop of AUC): v1 leans on f0, the feature the seeded drift moves; v3 on f1 and f2; v2 published none. */
export const IMPORTANCES: Record<number, Record<string, number>> = {
  1: { f0: 0.09, f1: 0.03, f2: 0.002 },
  3: { f0: 0.004, f1: 0.06, f2: 0.05 },
};
const explanations = (v: number): ExplanationsRequest | undefined =>
  IMPORTANCES[v] && { method: 'permutation', metric: 'auc', evalSetDigest: EVAL_SET, features: IMPORTANCES[v] };

/** `devices` devices on `version` send a day's health record into `window`, which stays open. */
export async function seedHealth(
  worker: TestWorker,
  appKey: string,
  model: string,
  version: number,
  window: number,
  devices: number,
  prefix = 'h',
) {
  for (let d = 0; d < devices; d++) {
    const res = await uploadHealth(
      worker,
      appKey,
      `${model}-v${version}-${prefix}-${window}-${d}`,
      { load: { ok: 1 }, predict: { ok: 10 }, latencies: [], backend: { wasm: 10 } },
      { model, version, window },
    );
    if (res.status !== 202) throw new Error(`health: ${res.status} ${await res.text()}`);
  }
}

export async function seedConsole(worker: TestWorker): Promise<Seeded> {
  const today = windowOf(new Date());
  const appKey = await createApp(worker);
  await seedModel(worker, 'fraud', 3, { description: 'card fraud scorer', explanations });
  await seedModel(worker, 'quiet', 2, { description: 'a model nobody touches' });
  await seedDriftWindow(worker, appKey, 'fraud', today - 1, 0);
  await seedDriftWindow(worker, appKey, 'fraud', today, 1.5);
  // v2 reaches devices while v1's windows close: its counts are live, in the open aggregates.
  await seedHealth(worker, appKey, 'fraud', 2, today - 1, 6);
  await seedHealth(worker, appKey, 'fraud', 2, today, 14);
  return {
    operator: await createToken(worker, 'operator'),
    viewer: await createToken(worker, 'viewer'),
    publisher: await createToken(worker, 'publisher'),
    appKey,
    today,
  };
}
