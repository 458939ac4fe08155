// The per-day privacy budget of rollout-step releases (ROLLOUT_STEP_EPSILON_PER_DAY): a step's
// health records and sketches are released on top of the day's window, so they are capped. Here
// the cap fits one step's releases: the first step is judged on its own data and promoted, the
// second finds the budget spent and waits for the day's window, saying so; nothing is released
// past the cap and the ledger shows exactly what was spent, split between the two channels the
// plan reads (health records and sketches), the health release carrying only the feature judged.
import { bucketOf, encodeUpload, healthLayout, healthUpload, rolloutCohort } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rhoFor } from '../../control-plane/src/drift/privacy.ts';
import { createApp, monitoredBaseline, outputSketch } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { pollUntil } from '../harness/poll.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;
const salt = 'budget-salt';

beforeAll(async () => {
  worker = await startWorker({
    vars: {
      ROLLOUT_TICK_SECONDS: '1',
      DRIFT_MIN_DEVICES: '20',
      DRIFT_EPSILON_PER_DAY: '1000',
      ROLLOUT_STEP_EPSILON_PER_DAY: '1000',
    },
  });
  appKey = await createApp(worker);
  await createModel(worker, 'budget');
  for (const seed of [1, 2])
    expect(
      (await publish(worker, 'budget', await buildLayersModel({ seed, inputs: 3 }), { baseline: monitoredBaseline }))
        .res.status,
    ).toBe(201);
  await worker.api('/v1/models/budget/aliases/champion', { method: 'PUT', json: { version: 1 } });
});
afterAll(() => worker?.dispose());

const get = async (id: string) => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any;
const sequence = async () => ((await (await worker.api('/v1/models/budget')).json()) as { sequence: number }).sequence;
const post = (channel: string, device: string, version: number, rollout: string, body: Uint8Array) =>
  worker.api(`/v1/edge/${channel}/budget/${version}?device=${device}&rollout=${rollout}`, {
    method: 'POST',
    token: null,
    body: body as unknown as BodyInit,
    headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
  });

/** 25 devices per range at `percent` send a healthy step record and an undrifted step sketch. */
async function reportStep(rollout: string, percent: number, seq: number): Promise<void> {
  const layout = await healthLayout();
  const record = encodeUpload(
    layout,
    (await healthUpload(
      { load: { ok: 1 }, predict: { ok: 20 }, latencies: new Array(12).fill(2), backend: { cpu: 20 } },
      seq,
    ))!,
  );
  const found = { challenger: 0, control: 0 };
  for (let i = 0; found.challenger < 25 || found.control < 25; i++) {
    const device = `b${percent}-${i}`;
    const cohort = rolloutCohort(await bucketOf(salt, device), percent);
    if (cohort === 'rest' || found[cohort] >= 25) continue;
    found[cohort]++;
    const version = cohort === 'challenger' ? 2 : 1;
    expect([202, 422]).toContain((await post('step-health', device, version, rollout, record)).status); // 422: released meanwhile
    expect([202, 422]).toContain(
      (await post('step-sketches', device, version, rollout, await outputSketch(i, device, 1, seq))).status,
    );
  }
}

const ledger = async () =>
  (
    await worker.db
      .prepare(
        "SELECT scope, COUNT(*) AS n FROM privacy_ledger WHERE model_id = (SELECT id FROM models WHERE name = 'budget') GROUP BY scope",
      )
      .all()
  ).results;

it("judges the first step on its own data, then holds the next once the day's step budget is spent", async () => {
  const plan = {
    steps: [
      { percent: 20, bakeSeconds: 1 },
      { percent: 50, bakeSeconds: 1 },
      { percent: 100, bakeSeconds: 3600 },
    ],
    salt,
    // Tens of devices per arm bound an error-rate difference within ~10 points, not 5 (binomial spread and DP noise).
    analysis: [
      { metric: 'inference_error_rate', tolerance: 0.2, minSample: 20, critical: true },
      { metric: 'prediction_drift', tolerance: 0, minSample: 20, critical: true },
    ],
  };
  const { id } = (await (
    await worker.api('/v1/models/budget/rollouts', { method: 'POST', json: { challenger: 2, plan } })
  ).json()) as { id: string };
  const first = await sequence();
  await reportStep(id, 20, first);
  const promoted = await pollUntil(
    () => get(id),
    (r) => r.step === 1 || r.state !== 'running',
    { what: 'the first step promoted' },
  );
  expect(promoted).toMatchObject({ state: 'running', step: 1, percent: 50 });
  expect(promoted.history.find((h: any) => h.action === 'rollout.promote')).toMatchObject({ actor: 'analysis' });
  expect(await ledger()).toEqual([{ scope: 'step', n: 2 }]); // the step's health and its sketches: one day's ε in all
  // The plan reads both channels, so each got half of the step's ρ (rollouts/step-budget.ts), and
  // the health release carried only the feature its one health metric reads (predict).
  const privacy = (await (await worker.api('/v1/models/budget/privacy')).json()) as {
    channels: { today: { channel: string; releases: number; rho: number }[] };
  };
  const half = rhoFor(1000, 1e-6) / 2;
  expect(privacy.channels.today.map((c) => c.channel)).toEqual(['step-health', 'step-sketches']);
  for (const c of privacy.channels.today) {
    expect(c.releases).toBe(1);
    expect(c.rho / half).toBeCloseTo(1, 6);
  }
  const noise = JSON.parse(
    (await worker.db
      .prepare('SELECT noise FROM step_increments WHERE rollout_id = ? LIMIT 1')
      .bind(id)
      .first<{ noise: string }>())!.noise,
  );
  const names = (await healthLayout()).features.map((f) => f.name);
  expect(noise.withheld.map((i: number) => names[i])).toEqual(['load', 'latency_ms', 'backend', 'feedback']);
  const increment = JSON.parse(
    (await worker.db
      .prepare('SELECT aggregate FROM step_increments WHERE rollout_id = ? LIMIT 1')
      .bind(id)
      .first<{ aggregate: string }>())!.aggregate,
  );
  expect(increment.features[names.indexOf('backend')].sumBins.every((x: number) => x === 0)).toBe(true); // withheld: zeros, never exact sums
  expect(increment.features[names.indexOf('predict')].sumBins.some((x: number) => x !== 0)).toBe(true);

  const second = await sequence();
  expect(second).toBeGreaterThan(first);
  await reportStep(id, 50, second);
  const held = await pollUntil(
    () => get(id),
    (r) => r.decision?.step === 1 && r.decision.summary.includes('budget'),
    { what: 'a hold for the spent step budget' },
  );
  expect(held).toMatchObject({ state: 'running', step: 1 });
  expect(held.decision.outcome).toBe('hold');
  expect(held.decision.summary).toContain("today's step privacy budget is spent");
  expect(held.decision.metrics.every((m: any) => m.status === 'no_data')).toBe(true); // no day's window closed yet
  // Nothing of the second step was released: its aggregates still hold the devices' sums, open.
  for (const cohort of [`step-${id}`, `step-${id}-sketches`]) {
    const agg = (await (
      await worker.api(`/v1/models/budget/versions/2/sketches/${second}?cohort=${cohort}`)
    ).json()) as { devices: number; closed: boolean };
    expect(agg).toMatchObject({ window: second, devices: 25, closed: false });
  }
  const released = (await worker.db
    .prepare(
      "SELECT COUNT(*) AS n FROM drift_windows WHERE model_id = (SELECT id FROM models WHERE name = 'budget') AND window = ?",
    )
    .bind(second)
    .first<{ n: number }>())!.n;
  expect(released).toBe(0);
  expect(await ledger()).toEqual([{ scope: 'step', n: 2 }]);
});
