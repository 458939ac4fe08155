// A step's health evidence accumulates across releases (issue 16): the step aggregate releases an
// increment — the devices since the last one — and the alarm judges the sum of the increments
// with an always-valid confidence sequence. Here the first increment (20 devices an arm) cannot
// decide; the second (60 more an arm, disjoint devices) rolls the regressed challenger back. Each
// increment is recorded once per arm, and only the first spends privacy budget: the second's
// devices are not in the first (parallel composition), so its ledger entry adds ρ = 0.
import { bucketOf, encodeUpload, healthLayout, healthUpload, rolloutCohort } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../fixtures/drift.ts';
import { consolePage, signIn } from '../security/console-session.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { pollUntil } from '../harness/poll.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;
const salt = 'increment-salt';

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
  await createModel(worker, 'inc');
  for (const seed of [1, 2])
    expect((await publish(worker, 'inc', await buildLayersModel({ seed }))).res.status).toBe(201);
  await worker.api('/v1/models/inc/aliases/champion', { method: 'PUT', json: { version: 1 } });
});
afterAll(() => worker?.dispose());

const get = async (id: string) => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any;
const q = async <T>(sql: string, ...args: unknown[]) =>
  (
    await worker.db
      .prepare(sql)
      .bind(...args)
      .all<T>()
  ).results;

/** Devices `from`…`from + n − 1` of each range send a step record: challenger 50 % errors, control none. */
async function report(rollout: string, seq: number, from: number, n: number): Promise<void> {
  const layout = await healthLayout();
  const body = async (errors: number) =>
    encodeUpload(
      layout,
      (await healthUpload(
        {
          load: { ok: 1 },
          predict: { ok: 20 - errors, inference_error: errors },
          latencies: new Array(12).fill(2),
          backend: { cpu: 20 },
        },
        seq,
      ))!,
    );
  const records = { challenger: await body(10), control: await body(0) };
  const seen = { challenger: 0, control: 0 };
  for (let i = 0; seen.challenger < from + n || seen.control < from + n; i++) {
    const device = `inc-${i}`;
    const cohort = rolloutCohort(await bucketOf(salt, device), 50);
    if (cohort === 'rest' || seen[cohort] >= from + n) continue;
    if (seen[cohort]++ < from) continue; // sent with an earlier increment
    const res = await worker.api(
      `/v1/edge/step-health/inc/${cohort === 'challenger' ? 2 : 1}?device=${device}&rollout=${rollout}`,
      {
        method: 'POST',
        token: null,
        body: records[cohort] as unknown as BodyInit,
        headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
      },
    );
    expect(res.status).toBe(202);
  }
}

it('decides on the second increment what the first alone could not, spending the step budget once', async () => {
  const plan = {
    steps: [
      { percent: 50, bakeSeconds: 1 },
      { percent: 100, bakeSeconds: 3600 },
    ],
    salt,
    analysis: [{ metric: 'inference_error_rate', tolerance: 0.05, minSample: 20, critical: true }],
  };
  const created = await worker.api('/v1/models/inc/rollouts', { method: 'POST', json: { challenger: 2, plan } });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const seq = ((await (await worker.api('/v1/models/inc')).json()) as { sequence: number }).sequence;

  await report(id, seq, 0, 20);
  const first = await pollUntil(
    () => get(id),
    (r) => r.decision?.metrics?.[0]?.sample?.challenger === 20,
    { what: 'the first increment judged', timeoutMs: 45_000 },
  );
  // + 50 points on 20 devices an arm: ± 2 SE would already fail; the confidence sequence, valid at
  // every increment, is still too wide to say whether the harm exceeds 5 points.
  expect(first).toMatchObject({ state: 'running', step: 0, decision: { outcome: 'hold' } });
  const [m1] = first.decision.metrics;
  expect(m1).toMatchObject({
    status: 'inconclusive',
    sample: { challenger: 20, control: 20 },
    sequence: { releases: 1, alpha: 0.05 },
  });
  expect(m1.observed).toBeGreaterThan(0.4); // 0.5, give or take the (small, ε = 1000) release noise
  expect(m1.sequence.lower).toBeLessThan(0.05);
  // Its projection (console "Decides" column): at this estimate the next increment, 4 × 20 devices an arm, fails it.
  expect(m1.projection).toMatchObject({ outcome: 'fail', devicesPerArm: 80 });
  expect(m1.projection.seconds).toBeGreaterThan(0);
  // The console's evidence table shows the estimate, the sequence against the tolerance and the projection.
  const session = await signIn(worker, worker.adminToken);
  const panel = (await consolePage(worker, session.cookie, `/console/rollouts/${id}/panel`)).html;
  const row = panel.slice(
    panel.indexOf('data-metric="inference_error_rate"'),
    panel.indexOf('</tr>', panel.indexOf('data-metric="inference_error_rate"')),
  );
  const label = row.match(
    /data-sequence="true">.*?<svg[^>]*aria-label="\[(-?[\d.]+), (-?[\d.]+)\] at α = 0\.05, 1 release; tolerance 0\.05"/s,
  );
  expect(Math.abs(Number(label?.[1]) - m1.sequence.lower)).toBeLessThan(0.0011);
  expect(Math.abs(Number(label?.[2]) - m1.sequence.upper)).toBeLessThan(0.0011);
  expect(row).toMatch(/data-projection="true">fail at 80 devices per arm, in ~\d+ (min|h) at this pace/);

  await report(id, seq, 20, 60); // the next increment needs 3 × the 20 released
  const done = await pollUntil(
    () => get(id),
    (r) => r.state !== 'running',
    { what: 'the step decided on two increments', timeoutMs: 45_000 },
  );
  expect(done).toMatchObject({ state: 'rolled-back', decision: { outcome: 'rollback' } });
  const [m2] = done.decision.metrics;
  expect(m2).toMatchObject({ status: 'fail', sample: { challenger: 80, control: 80 }, sequence: { releases: 2 } });
  expect(m2.sequence.lower).toBeGreaterThan(0.05); // the projection came true at the look it named
  expect(m2.projection).toBeUndefined(); // decided: nothing to project
  expect(done.history.at(-1)).toMatchObject({ action: 'rollout.rollback', actor: 'analysis' });

  // Two increments per arm, disjoint devices: 20 then 60.
  const rows = await q<{ version: number; increment: number; devices: number }>(
    'SELECT version, increment, devices FROM step_increments WHERE rollout_id = ? ORDER BY version, increment',
    id,
  );
  expect(rows).toEqual([
    { version: 1, increment: 1, devices: 20 },
    { version: 1, increment: 2, devices: 60 },
    { version: 2, increment: 1, devices: 20 },
    { version: 2, increment: 2, devices: 60 },
  ]);
  // Ledgered per increment; only the first spends (each device's records are in one increment).
  const ledger = await q<{ scope: string; rho: number }>(
    "SELECT scope, rho FROM privacy_ledger WHERE model_id = (SELECT id FROM models WHERE name = 'inc') ORDER BY id",
  );
  expect(ledger.map((l) => l.scope)).toEqual(['step', 'step-increment']);
  expect(ledger[0]!.rho).toBeGreaterThan(0);
  expect(ledger[1]!.rho).toBe(0);
  // The aggregate kept collecting after the first increment and holds nothing unreleased or unacknowledged.
  const agg = (await (
    await worker.api(`/v1/models/inc/versions/2/sketches/${seq}?cohort=step-${id}`)
  ).json()) as Record<string, unknown>;
  expect(agg).toMatchObject({ devices: 80, unreleased: 0, closed: false, increments: 2 });
  expect(agg.pending).toBeUndefined();
});
