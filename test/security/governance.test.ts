// Rollout governance (issue 15, "a publisher (CI) token ships to the whole fleet"): before this
// change a publisher could publish v2 claiming `auc = 0.9999` on the champion's evalSetDigest and
// start a rollout with one 100 % step, no analysis and gate.margin 0 — 201, every ticket named v2.
// Now a per-model policy, set by an operator, bounds what a publisher may start, and its gate can
// require metrics the control plane computed itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createToken } from '../fixtures/drift.ts';
import { buildLayersModel, outputsInNode } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let ci: string;
let viewer: string;
let appKey: string;
const evalSet = 'e'.repeat(64);
const reckless = { steps: [{ percent: 100, bakeSeconds: 0 }], analysis: [], gate: { metric: 'auc', margin: 0 } };
const live = async () =>
  (await worker.db
    .prepare("SELECT COUNT(*) AS n FROM rollouts WHERE state IN ('draft', 'running', 'paused')")
    .first<{ n: number }>())!.n;
const ticketVersion = async (device: string) => {
  const res = await worker.api(`/v1/edge/tickets/fraud?device=${device}`, {
    token: null,
    headers: { 'x-modelfleet-app-key': appKey },
  });
  return JSON.parse(Buffer.from(((await res.json()) as { payload: string }).payload, 'base64').toString())
    .version as number;
};
const policy = async () =>
  (await (await worker.api('/v1/models/fraud/rollout-policy', { token: viewer })).json()) as any;
// The model has no fleet data (no daily health window): the power check that follows the policy
// treats that as a documented hold, so these publisher plans are judged by the policy and gate alone
// (test/security/rollout-power.test.ts covers fleets whose plans cannot decide).
const start = (plan: unknown, token = ci) =>
  worker.api('/v1/models/fraud/rollouts', { method: 'POST', token, json: { challenger: 2, plan } });

beforeAll(async () => {
  worker = await startWorker();
  await createModel(worker, 'fraud');
  expect(
    (
      await publish(worker, 'fraud', await buildLayersModel({ seed: 1 }), {
        metrics: { evalSetDigest: evalSet, values: { auc: 0.8 } } as never,
      })
    ).res.status,
  ).toBe(201);
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  ci = await createToken(worker, 'publisher');
  viewer = await createToken(worker, 'viewer');
  appKey = await createApp(worker);
  // CI publishes a challenger with whatever metrics it likes.
  expect(
    (
      await publish(worker, 'fraud', await buildLayersModel({ seed: 2 }), {
        metrics: { evalSetDigest: evalSet, values: { auc: 0.9999 } } as never,
      })
    ).res.status,
  ).toBe(201);
});
afterAll(() => worker?.dispose());

describe('the reported attack', () => {
  it('one 100 % step, no analysis, margin 0 from a publisher is refused by the default policy; no device moves', async () => {
    const res = await start(reckless);
    expect(res.status).toBe(422);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('policy_violation');
    expect(body.error.details.violations.join(' ')).toMatch(/at least 3.*at most 10 %.*load_failure_rate/s);
    expect(await live()).toBe(0);
    for (const d of ['a', 'b', 'c', 'd']) expect(await ticketVersion(`dev-${d}`)).toBe(1);
    // The policy in force, though never set, is readable by a viewer, labelled as the defaults.
    expect(await policy()).toMatchObject({
      configured: false,
      policy: { minSteps: 3, maxFirstStepPercent: 10, minBakeSeconds: 3600 },
    });
  });

  it('with a server-computed gate in the policy, self-reported metrics cannot pass it', async () => {
    const set = await worker.api('/v1/models/fraud/rollout-policy', {
      method: 'PUT',
      json: { gate: { metric: 'accuracy', margin: 0.01, source: 'server' } },
    });
    expect(set.status).toBe(200);
    const res = await start({ gate: { metric: 'auc', margin: 0 } }); // a compliant plan (default steps and metrics), self-reported gate
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      error: { code: 'gate_failed', message: expect.stringContaining('has not evaluated') },
    });
    expect(await live()).toBe(0);
  });
});

describe('the policy', () => {
  it('only an operator sets it; bad input is refused and changes nothing; every change is audited', async () => {
    const before = await policy();
    expect(
      (await worker.api('/v1/models/fraud/rollout-policy', { method: 'PUT', token: ci, json: { minSteps: 1 } })).status,
    ).toBe(403);
    for (const bad of [
      { minSteps: 0 },
      { maxFirstStepPercent: 0 },
      { minBakeSeconds: -1 },
      { requiredMetrics: ['nope'] },
      { gate: { metric: 'auc', margin: -1 } },
      { surprise: true },
      { minSteps: 'three' },
    ]) {
      const res = await worker.api('/v1/models/fraud/rollout-policy', { method: 'PUT', json: bad });
      expect(res.status).toBe(400);
    }
    expect(await policy()).toEqual(before);
    const audit = (await (await worker.api('/v1/audit?subject=model/fraud/rollout-policy')).json()) as any;
    expect(audit.records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'rollout-policy.set',
          after: expect.objectContaining({ gate: expect.objectContaining({ source: 'server' }) }),
        }),
      ]),
    );
  });

  it('a publisher plan within a lenient policy and through a self-reported gate starts, labelled as self-reported', async () => {
    expect(
      (
        await worker.api('/v1/models/fraud/rollout-policy', {
          method: 'PUT',
          json: { minSteps: 2, maxFirstStepPercent: 20, minBakeSeconds: 60, requiredMetrics: ['inference_error_rate'] },
        })
      ).status,
    ).toBe(200);
    const plan = {
      steps: [
        { percent: 20, bakeSeconds: 60 },
        { percent: 100, bakeSeconds: 0 },
      ],
      analysis: [{ metric: 'inference_error_rate', tolerance: 0.01 }],
      gate: { metric: 'auc', margin: 0.1 },
    };
    const res = await start(plan);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const history = ((await (await worker.api(`/v1/rollouts/${id}`)).json()) as any).history;
    expect(history[0].reason).toContain('gate passed (self-reported metrics): auc 0.9999 vs 0.8');
    expect((await worker.api(`/v1/rollouts/${id}/abort`, { method: 'POST', json: {} })).status).toBe(200);
  });

  it('an operator may break the policy, and the audit says how; a policy can close publishers out', async () => {
    const res = await start(reckless, worker.adminToken);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const history = ((await (await worker.api(`/v1/rollouts/${id}`)).json()) as any).history;
    expect(history[0].reason).toMatch(/operator override of the rollout policy: the plan has 1 step/);
    expect((await worker.api(`/v1/rollouts/${id}/abort`, { method: 'POST', json: {} })).status).toBe(200);
    expect(
      (await worker.api('/v1/models/fraud/rollout-policy', { method: 'PUT', json: { publisherMayStart: false } }))
        .status,
    ).toBe(200);
    const refused = await start({ gate: { metric: 'auc', margin: 0 } });
    expect(refused.status).toBe(403);
    expect(await live()).toBe(0);
  });
});

describe('a gate on metrics the control plane computed', () => {
  const topClasses = async (a: Awaited<ReturnType<typeof buildLayersModel>>, x: number[][]) =>
    (await outputsInNode(a, x)).map((r) => r.indexOf(Math.max(...r)));

  it('passes a challenger that scores better on the registered set, refuses one that scores worse — whatever they self-report', async () => {
    const [v1, v2] = [
      await buildLayersModel({ seed: 11, inputs: 4, outputs: 3 }),
      await buildLayersModel({ seed: 12, inputs: 4, outputs: 3 }),
    ];
    await createModel(worker, 'scored');
    // v2 claims the better auc either way: the server gate ignores it.
    expect(
      (await publish(worker, 'scored', v1, { metrics: { evalSetDigest: evalSet, values: { auc: 0.5 } } as never })).res
        .status,
    ).toBe(201);
    expect(
      (await publish(worker, 'scored', v2, { metrics: { evalSetDigest: evalSet, values: { auc: 0.99 } } as never })).res
        .status,
    ).toBe(201);
    await worker.api('/v1/models/scored/aliases/champion', { method: 'PUT', json: { version: 1 } });
    expect(
      (
        await worker.api('/v1/models/scored/rollout-policy', {
          method: 'PUT',
          json: { gate: { metric: 'accuracy', margin: 0.05, source: 'server' } },
        })
      ).status,
    ).toBe(200);
    const rows = Array.from({ length: 300 }, (_, i) => [0, 1, 2, 3].map((j) => Math.sin(i * 12.9898 + j * 78.233) * 2));
    const create = () =>
      worker.api('/v1/models/scored/rollouts', { method: 'POST', token: ci, json: { challenger: 2, plan: {} } });
    // Labels are the champion's own top classes: v1 scores 1, v2 less — the gate refuses.
    expect(
      (
        await worker.api('/v1/models/scored/eval-set', {
          method: 'PUT',
          json: { inputs: rows, labels: await topClasses(v1, rows) },
        })
      ).status,
    ).toBe(200);
    for (const v of [1, 2])
      expect((await worker.api(`/v1/models/scored/versions/${v}/evaluate`, { method: 'POST', token: ci })).status).toBe(
        200,
      );
    const refused = await create();
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      error: { code: 'gate_failed', details: { source: 'server', metric: 'accuracy', champion: 1 } },
    });
    // A new set labelled by v2: v2 scores 1 and beats v1 by more than the margin — the gate passes.
    expect(
      (
        await worker.api('/v1/models/scored/eval-set', {
          method: 'PUT',
          json: { inputs: rows, labels: await topClasses(v2, rows) },
        })
      ).status,
    ).toBe(200);
    for (const v of [1, 2])
      expect((await worker.api(`/v1/models/scored/versions/${v}/evaluate`, { method: 'POST', token: ci })).status).toBe(
        200,
      );
    const started = await create();
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as { id: string };
    const history = ((await (await worker.api(`/v1/rollouts/${id}`)).json()) as any).history;
    expect(history[0].reason).toMatch(
      /gate passed \(computed by the control plane\): accuracy 1 vs 0\.\d+ \(margin 0\.05\)/,
    );
  });
});
