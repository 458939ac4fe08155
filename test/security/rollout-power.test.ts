// Rollouts that cannot decide (issue 16, items 1–2 and "Bad input"): before this change a
// publisher (CI) could start the default plan — 1 → 5 → 25 → 50 → 100 %, verify-failure tolerance
// 0.1 point — on a fleet of 5,000 devices a day, where no step can ever pass or fail: 201, and the
// rollout waited for an operator for ever. Now the plan's power on the fleet is computed at
// creation: refused for publishers (plan_cannot_decide, with the figures and the changes that would
// work), warned for operators, derived from the fleet when omitted; zero-tolerance rate metrics are
// refused. The fleet is what the daily health windows counted (seeded here in drift_windows).
// The CLI side is rollout-power-cli.test.ts; the shared set-up is rollout-power-setup.ts.
import { describe, expect, it } from 'vitest';
import {
  ci,
  creates,
  fleet,
  gate,
  modelId,
  preview,
  rollouts,
  start,
  usePowerFleet,
  worker,
} from './rollout-power-setup.ts';

usePowerFleet();

describe('a plan that cannot decide', () => {
  it('is refused for a publisher on 5,000 devices a day, with the figures and the changes that would work; nothing is created', async () => {
    await fleet(5000);
    const [before, audits] = [await rollouts(), await creates()];
    const res = await start(
      {
        steps: [
          { percent: 1, bakeSeconds: 3600 },
          { percent: 5, bakeSeconds: 3600 },
          { percent: 25, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 3600 },
        ],
        gate,
      },
      ci,
    );
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as any;
    expect(error.code).toBe('plan_cannot_decide');
    expect(error.details.power).toMatchObject({
      canDecide: false,
      status: 'cannot-decide',
      fleet: { devicesPerDay: 5000, windows: 7 },
      rule: { kind: 'sequential', alpha: 0.05, power: 0.95 },
    });
    expect(error.details.power.steps[0]).toMatchObject({
      percent: 1,
      devicesPerDay: { challenger: 50, control: 50 },
      canDecide: false,
    });
    expect(error.details.suggestions.join('\n')).toMatch(/looser tolerances: load_failure_rate ≥ [0-9.]+/);
    expect(await rollouts()).toBe(before);
    expect(await creates()).toBe(audits);
  });

  it('is warned for an operator: 201 with warnings, the power report in the response and in the audit record', async () => {
    await fleet(5000);
    const res = await start({
      steps: [
        { percent: 1, bakeSeconds: 3600 },
        { percent: 100, bakeSeconds: 3600 },
      ],
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as any;
    expect(body.power).toMatchObject({ canDecide: false, status: 'cannot-decide' });
    expect(body.warnings.join('\n')).toMatch(/step 1 \(1 %.*can detect only/);
    const { history } = (await (await worker.api(`/v1/rollouts/${body.id}`)).json()) as any;
    expect(history[0]).toMatchObject({
      action: 'rollout.create',
      after: { power: { canDecide: false, fleet: { devicesPerDay: 5000 } } },
    });
    expect(history[0].reason).toMatch(/operator started a plan that cannot decide/);
  });

  it('a fleet whose windows counted zero devices is refused for a publisher (a coded error), the plan unassessable otherwise', async () => {
    await fleet(0);
    const res = await start({ gate }, ci);
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as any;
    expect(error).toMatchObject({ code: 'plan_cannot_decide', details: { power: { fleet: { devicesPerDay: 0 } } } });
    expect(error.details.problems[0]).toMatch(/no devices/);
    expect(
      await worker.db
        .prepare("SELECT COUNT(*) AS n FROM rollouts WHERE state IN ('draft', 'running', 'paused')")
        .first<{ n: number }>(),
    ).toEqual({ n: 0 });
  });

  it('no fleet data at all is a documented hold: the publisher rollout starts, warned, on the fixed default plan', async () => {
    await fleet(null);
    const res = await start({ gate }, ci);
    expect(res.status).toBe(201);
    const body = (await res.json()) as any;
    expect(body.power).toMatchObject({ status: 'no-fleet-data', canDecide: false, fleet: { windows: 0 } });
    expect(body.warnings[0]).toMatch(/no fleet data yet/);
    expect(body.plan.steps.map((s: { percent: number }) => s.percent)).toEqual([1, 5, 25, 50, 100]);
  });
});

describe('defaults that fit the fleet', () => {
  it('a plan without steps or tolerances is derived from a fleet of 1,000,000 a day, decides, and a publisher may start it', async () => {
    await fleet(1_000_000);
    const res = await start({ gate }, ci);
    expect(res.status).toBe(201);
    const body = (await res.json()) as any;
    expect(body.power).toMatchObject({ canDecide: true, status: 'decides', derived: { steps: true, analysis: true } });
    expect(body.warnings).toEqual([]);
    expect(body.plan.steps.map((s: { percent: number }) => s.percent)).toEqual([10, 25, 50, 100]);
    expect(body.plan.analysis.find((c: { metric: string }) => c.metric === 'verify_failure_rate')).toMatchObject({
      tolerance: 0.001,
      minSample: 83_300,
    }); // one release of 83,300 an arm decides (typical rates)
    // The stored plan is the derived one (what the analysis will judge).
    expect(
      JSON.parse(
        (await worker.db.prepare('SELECT plan FROM rollouts WHERE id = ?').bind(body.id).first<{ plan: string }>())!
          .plan,
      ).steps[0].percent,
    ).toBe(10);
  });

  it('on 20,000 a day the derived tolerances loosen to what the fleet can resolve', async () => {
    await fleet(20_000);
    const r = (await (await preview({ gate }, ci)).json()) as any;
    expect(r).toMatchObject({ outcome: 'allowed', power: { canDecide: true } });
    expect(r.plan.analysis.find((c: { metric: string }) => c.metric === 'inference_error_rate').tolerance).toBe(0.026); // at the typical 1 % error rate
  });

  it("reads the fleet's rates from the champion's latest released health window: a fleet erring less gets tighter tolerances", async () => {
    await fleet(20_000);
    const devices = 15_000;
    const summary = {
      devices,
      load: { devices, shares: { ok: 1, load_failed: 0, verify_failed: 0 } },
      predict: { devices, shares: { ok: 0.998, inference_error: 0.002, non_finite: 0 } },
      backend: { devices, shares: { webgpu: 0, wasm: 1, cpu: 0 } },
      latency: { devices, p50Ms: 2, p95Ms: 5, over1sShare: 0 },
    };
    await worker.db
      .prepare(
        "INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, verdict, closed_at) VALUES (?, 1, 20407, 'health', ?, 1, ?, ?)",
      )
      .bind(modelId, devices, JSON.stringify(summary), new Date().toISOString())
      .run();
    // A newer window in which 3 devices loaded the model (the rest had it cached), one of them
    // failing by the release noise: load rates come from the older window's 15,000.
    const later = {
      ...summary,
      load: { devices: 3, shares: { ok: 0.67, load_failed: 0.33, verify_failed: 0 } },
      predict: { devices: devices + 1, shares: { ok: 0.997, inference_error: 0.003, non_finite: 0 } },
    };
    await worker.db
      .prepare(
        "INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, verdict, closed_at) VALUES (?, 1, 20408, 'health', ?, 1, ?, ?)",
      )
      .bind(modelId, devices, JSON.stringify(later), new Date().toISOString())
      .run();
    const r = (await (await preview({ gate }, ci)).json()) as any;
    expect(r.power.fleet.rates).toEqual({
      load_failure_rate: 0,
      verify_failure_rate: 0,
      inference_error_rate: 0.003,
      non_finite_rate: 0,
    });
    expect(r.power.steps[0].metrics.find((m: { metric: string }) => m.metric === 'inference_error_rate').rate).toBe(
      0.003,
    );
    expect(r.plan.analysis.find((c: { metric: string }) => c.metric === 'inference_error_rate').tolerance).toBeLessThan(
      0.026,
    );
  });
});

describe('preview', () => {
  it('returns the power report for the caller’s role and creates nothing', async () => {
    await fleet(5000);
    const [before, audits] = [await rollouts(), await creates()];
    const asCi = (await (await preview({ gate }, ci)).json()) as any;
    expect(asCi).toMatchObject({ outcome: 'refused', power: { canDecide: false, fleet: { devicesPerDay: 5000 } } });
    expect(asCi.power.steps[0].metrics.map((m: { metric: string }) => m.metric)).toContain('verify_failure_rate');
    const asAdmin = (await (
      await preview({
        steps: [
          { percent: 1, bakeSeconds: 60 },
          { percent: 100, bakeSeconds: 0 },
        ],
      })
    ).json()) as any;
    expect(asAdmin.outcome).toBe('warned'); // an operator is not bound by the policy it breaks
    expect(asAdmin.policyViolations.length).toBeGreaterThan(0);
    expect(await rollouts()).toBe(before);
    expect(await creates()).toBe(audits);
  });
});

describe('bad input', () => {
  const analysis = (tolerance: unknown) => ({
    steps: [
      { percent: 10, bakeSeconds: 3600 },
      { percent: 100, bakeSeconds: 0 },
    ],
    analysis: [{ metric: 'inference_error_rate', tolerance }],
  });
  const bad: [string, unknown][] = [
    ['tolerance 0 on a rate', analysis(0)],
    ['negative tolerance', analysis(-0.01)],
    ['NaN tolerance (as JSON carries it: a string or null)', analysis('NaN')],
    ['null tolerance', analysis(null)],
    [
      'steps that do not grow',
      {
        steps: [
          { percent: 10, bakeSeconds: 60 },
          { percent: 10, bakeSeconds: 60 },
          { percent: 100, bakeSeconds: 0 },
        ],
      },
    ],
    [
      'steps that shrink',
      {
        steps: [
          { percent: 50, bakeSeconds: 60 },
          { percent: 5, bakeSeconds: 60 },
          { percent: 100, bakeSeconds: 0 },
        ],
      },
    ],
  ];
  it.each(bad)(
    '%s: 400 bad_request through create and preview, for both roles; nothing stored',
    async (_name, plan) => {
      await fleet(1_000_000);
      const [before, audits] = [await rollouts(), await creates()];
      for (const res of [await start(plan), await start(plan, ci), await preview(plan)]) {
        expect(res.status).toBe(400);
        expect(((await res.json()) as any).error).toMatchObject({
          code: 'bad_request',
          message: expect.stringMatching(/invalid rollout plan/),
        });
      }
      expect(await rollouts()).toBe(before);
      expect(await creates()).toBe(audits);
    },
  );

  it('prediction drift keeps tolerance 0 (judged without an SE)', async () => {
    await fleet(1_000_000);
    const res = await preview({
      steps: [
        { percent: 10, bakeSeconds: 3600 },
        { percent: 100, bakeSeconds: 0 },
      ],
      analysis: [{ metric: 'prediction_drift', tolerance: 0 }],
    });
    expect(res.status).toBe(200);
  });
});
