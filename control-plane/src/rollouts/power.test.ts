import { readFileSync } from 'node:fs';
import { DEFAULT_ANALYSIS, DEFAULT_POLICY, DEFAULT_STEPS, policyViolations } from '@modelfleet/protocol';
import { boxMuller } from '@modelfleet/protocol/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPrivacy, fixedSharePrivacy, powerTable } from '../../../test/sim/power-table.ts';
import type { HealthSummary } from '../drift/health-summary.ts';
import { judge } from './judge.ts';
import { singleReleaseSample } from './deciding.ts';
import { deriveDefaults } from './plan-defaults.ts';
import {
  FIXED_RULE,
  type Privacy,
  SEQUENTIAL_RULE,
  TYPICAL_RATES,
  daysToDecide,
  differenceSE,
  powerReport,
} from './power.ts';
import { niceCeil } from './tolerance.ts';
import { alphaPerMetric } from './sequential.ts';

let privacy: Privacy;
/** Before issue 16: the step's health on a fixed 10 % of its ε, every health feature released. */
let before: Privacy;
beforeAll(async () => void ([privacy, before] = await Promise.all([defaultPrivacy(), fixedSharePrivacy()])));
const typical = (metric: keyof typeof TYPICAL_RATES, rateMetrics = 1) => ({
  rate: TYPICAL_RATES[metric]!,
  rateMetrics,
});
const fleet = (devicesPerDay: number, windows = 7) => ({ devicesPerDay, windows, basis: 'test' });
const errorCheck = (tolerance: number, minSample = 1000) => ({
  metric: 'inference_error_rate' as const,
  tolerance,
  minSample,
  critical: true,
});

/** A health arm as judge.ts reads it: `errors` of `n` devices erred, the release noise σ. */
const arm = (errors: number, n: number, noise: number) => {
  const share = errors / n;
  const summary = {
    devices: n,
    load: { devices: n, shares: {} },
    predict: { devices: n, shares: { inference_error: share } },
    latency: { devices: n, p50Ms: 1, p95Ms: 1, over1sShare: 0 },
  } as unknown as HealthSummary;
  return { devices: n, summary, noise, closedAt: '2026-12-01T00:00:00.000Z' };
};

/** Standard normal draw (Box–Muller) from a seeded generator, for a reproducible Monte Carlo. */
function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return { u, normal: boxMuller(u) }; // u() is never 0: the same draws as without the guard
}

describe('power analysis', () => {
  it('counts in telemetry windows: on 30-s windows a step decides in seconds, and says so per window', () => {
    const plan = {
      steps: [
        { percent: 50, bakeSeconds: 15 },
        { percent: 100, bakeSeconds: 0 },
      ],
      analysis: [errorCheck(0.2, 20)],
    };
    const rule = { ...SEQUENTIAL_RULE, releaseFloor: 20 };
    const demo = { ...privacy, noiseSigma: 0.05 }; // the demo's ε = 1,000 a window: next to no noise
    const day = powerReport(plan, fleet(120), demo, rule);
    const short = powerReport(plan, { ...fleet(120), windowSeconds: 30 }, demo, rule);
    // The same sample decides; only the unit of time differs (a window is 30 s, not a day).
    expect(short.steps[0]!.metrics[0]!.requiredPerArm).toBe(day.steps[0]!.metrics[0]!.requiredPerArm);
    expect(short.fleet.windowSeconds).toBe(30);
    expect(short.steps[0]!.secondsToDecision).toBeLessThanOrEqual(60);
    expect(day.steps[0]!.secondsToDecision! / short.steps[0]!.secondsToDecision!).toBeGreaterThan(1000);
    const small = powerReport(plan, { ...fleet(10), windowSeconds: 30 }, demo, rule);
    expect(small.problems.join(' ')).toContain('control devices a 30-s window');
  });

  it('uses the release noise of production: σ ≈ 4.44 on each count at ε = 2 for the default plan (19.9 before issue 16)', () => {
    expect(privacy).toMatchObject({ epsilonPerDay: 2, healthShare: 1 });
    expect(privacy.noiseSigma).toBeCloseTo(4.442, 2);
    expect(before.noiseSigma).toBeCloseTo(19.87, 1);
  });

  it('computes the SE judge.ts computes for the same arms', () => {
    const a = arm(50, 5000, privacy.noiseSigma);
    const b = arm(50, 5000, privacy.noiseSigma);
    expect(judge(errorCheck(0.01), a, b).standardError).toBeCloseTo(
      differenceSE(0.01, 5000, 5000, privacy.noiseSigma),
      12,
    );
  });

  it("reproduces the issue's figures under the rule before it: at 5,000 devices per arm the default tolerances cannot decide; ~88,000 per arm are needed for verify failures", () => {
    const r = powerReport(
      {
        steps: [
          { percent: 50, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 3600 },
        ],
        analysis: DEFAULT_ANALYSIS,
      },
      fleet(10_000),
      before,
      FIXED_RULE,
    );
    expect(r.steps[0]!.devicesPerDay).toEqual({ challenger: 5000, control: 5000 });
    expect(r.canDecide).toBe(false);
    const verify = r.steps[0]!.metrics.find((m) => m.metric === 'verify_failure_rate')!;
    expect(verify.mde!).toBeGreaterThan(0.015); // 2.84 SE at 5,000 per arm, against a 0.001 tolerance
    expect(verify.requiredPerArm!).toBeGreaterThan(80_000);
    expect(verify.requiredPerArm!).toBeLessThan(100_000);
    expect(r.suggestions.join('\n')).toMatch(/looser tolerances: .*verify_failure_rate ≥ 0\.017/);
  });

  it('solves for the deciding sample exactly under the fixed rule: (k + z)·SE = tolerance there', () => {
    const t = daysToDecide(
      errorCheck(0.02),
      1000,
      1000,
      before.noiseSigma,
      FIXED_RULE,
      typical('inference_error_rate'),
    );
    const n = t * 1000;
    expect((FIXED_RULE.seMultiplier + FIXED_RULE.zPower) * differenceSE(0.01, n, n, before.noiseSigma)).toBeCloseTo(
      0.02,
      10,
    );
  });

  it('predicts the power of the fixed judge (the daily windows): at the required sample a harmless challenger passes ~80 % of the time', () => {
    const check = errorCheck(0.02);
    const privacy = before;
    const n = Math.ceil(daysToDecide(check, 1, 1, privacy.noiseSigma, FIXED_RULE, typical('inference_error_rate')));
    const r = rng(7);
    const binomial = (p: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) if (r.u() < p) k++;
      return k;
    };
    let passed = 0;
    const runs = 400;
    for (let i = 0; i < runs; i++) {
      // The released count: the true count plus the release's noise (a continuous stand-in for the discrete Gaussian).
      const count = () => Math.min(n, Math.max(0, binomial(0.01) + privacy.noiseSigma * r.normal()));
      if (judge(check, arm(count(), n, privacy.noiseSigma), arm(count(), n, privacy.noiseSigma)).status === 'pass')
        passed++;
    }
    expect(passed / runs).toBeGreaterThan(0.72);
    expect(passed / runs).toBeLessThan(0.88);
  });

  it('predicts the power of the sequential judge: at the first release it plans for, a harmless challenger passes ≥ 95 %, one 2 × the margin above the tolerance fails', () => {
    const check = errorCheck(0.01);
    const ctx = typical('inference_error_rate');
    const n = singleReleaseSample(check, 1, privacy.noiseSigma, SEQUENTIAL_RULE, ctx);
    expect(n).toBeGreaterThan(1000);
    // One look, one release of n devices per arm: the sample the plan's minSample is raised to.
    const r = rng(11);
    const rule = { kind: 'sequential', alpha: alphaPerMetric(1) } as const;
    const binomial = (p: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) if (r.u() < p) k++;
      return k;
    };
    const count = (p: number) => Math.min(n, Math.max(0, binomial(p) + privacy.noiseSigma * r.normal()));
    let passed = 0;
    let failed = 0;
    const runs = 300;
    for (let i = 0; i < runs; i++) {
      if (
        judge(check, arm(count(0.01), n, privacy.noiseSigma), arm(count(0.01), n, privacy.noiseSigma), rule).status ===
        'pass'
      )
        passed++;
      if (
        judge(check, arm(count(0.01 + 0.03), n, privacy.noiseSigma), arm(count(0.01), n, privacy.noiseSigma), rule)
          .status === 'fail'
      )
        failed++;
    }
    expect(passed / runs).toBeGreaterThanOrEqual(0.93); // planned: 95 % (binomial spread at the plan's rate: conservative)
    expect(failed / runs).toBeGreaterThanOrEqual(0.93);
    // A plan with minSample 1,000 looks at 1,000, 4,000, 16,000 … per arm: it decides at the first look past n.
    const days = daysToDecide(errorCheck(0.01, 1000), n, n, privacy.noiseSigma, SEQUENTIAL_RULE, ctx);
    expect([1000, 4000, 16_000, 64_000].map((x) => x / n)).toContain(days);
  });

  it('suggests a larger first release when one release would decide where the ×4 schedule from a small minSample cannot', () => {
    const r = powerReport(
      {
        steps: [
          { percent: 10, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 3600 },
        ],
        analysis: [errorCheck(0.012, 1000)],
      },
      fleet(50_000),
      privacy,
    );
    expect(r.canDecide).toBe(false); // looks at 1,000 and 4,000 devices within the day's 5,000: neither is enough
    expect(r.suggestions.join('\n')).toMatch(/a larger first release: minSample ≥ \d+/);
    const n = Number(/minSample ≥ (\d+)/.exec(r.suggestions.join('\n'))![1]);
    expect(
      powerReport(
        {
          steps: [
            { percent: 10, bakeSeconds: 3600 },
            { percent: 100, bakeSeconds: 3600 },
          ],
          analysis: [errorCheck(0.012, n)],
        },
        fleet(50_000),
        privacy,
      ).canDecide,
    ).toBe(true);
  });

  it('reports a fleet of zero devices as unable to decide, and no fleet data as a hold to assess later', () => {
    const zero = powerReport({ steps: DEFAULT_STEPS, analysis: DEFAULT_ANALYSIS }, fleet(0), privacy);
    expect(zero).toMatchObject({ canDecide: false, status: 'cannot-decide', suggestions: [] });
    expect(zero.problems[0]).toMatch(/no devices/);
    expect(zero.steps[0]!.metrics.every((m) => m.mde === null && m.secondsToDecision === null)).toBe(true);
    const none = powerReport({ steps: DEFAULT_STEPS, analysis: DEFAULT_ANALYSIS }, fleet(0, 0), privacy);
    expect(none).toMatchObject({ canDecide: false, status: 'no-fleet-data' });
    expect(deriveDefaults({}, fleet(0, 0), privacy)).toEqual({ steps: DEFAULT_STEPS, analysis: DEFAULT_ANALYSIS });
  });

  it('a zero rate tolerance never decides; the last (100 %) step is not judged', () => {
    const r = powerReport(
      {
        steps: [
          { percent: 10, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 0 },
        ],
        analysis: [errorCheck(0)],
      },
      fleet(1_000_000),
      privacy,
    );
    expect(r.steps[0]!.metrics[0]).toMatchObject({ canDecide: false, requiredPerArm: null });
    expect(r.steps[1]!.judged).toBe(false);
    expect(
      powerReport({ steps: [{ percent: 100, bakeSeconds: 0 }], analysis: DEFAULT_ANALYSIS }, fleet(1_000_000), privacy)
        .problems,
    ).toContain('the plan has no step below 100 %: nothing is compared with a control range');
  });

  it('derives defaults that decide and fit the default policy from 20,000 devices a day', () => {
    for (const devices of [20_000, 100_000, 1_000_000, 10_000_000]) {
      const plan = deriveDefaults({}, fleet(devices), privacy);
      expect(powerReport(plan, fleet(devices), privacy).canDecide, `${devices}`).toBe(true);
      expect(
        policyViolations({ ...plan, gate: { metric: 'auc', margin: 0, higherIsBetter: true } }, DEFAULT_POLICY),
        `${devices}`,
      ).toEqual([]);
      // Never tighter than the fixed defaults, never looser than needed.
      for (const c of plan.analysis)
        expect(c.tolerance).toBeGreaterThanOrEqual(DEFAULT_ANALYSIS.find((d) => d.metric === c.metric)!.tolerance);
    }
    // Before issue 16 the fixed defaults decided at none of these fleets.
    expect(
      powerReport({ steps: DEFAULT_STEPS, analysis: DEFAULT_ANALYSIS }, fleet(1_000_000), before, FIXED_RULE).canDecide,
    ).toBe(false);
  });

  it('respects a stricter policy: the first step within its maxFirstStepPercent, bakes at least its minBakeSeconds', () => {
    const plan = deriveDefaults({}, fleet(1_000_000), privacy, SEQUENTIAL_RULE, 5, 7200);
    expect(plan.steps[0]!.percent).toBeLessThanOrEqual(5);
    expect(plan.steps.every((s) => s.bakeSeconds === 7200)).toBe(true);
    expect(
      policyViolations(
        { ...plan, gate: { metric: 'auc', margin: 0, higherIsBetter: true } },
        { ...DEFAULT_POLICY, maxFirstStepPercent: 5, minBakeSeconds: 7200 },
      ),
    ).toEqual([]);
  });

  it('keeps given tolerances and finds the smallest first step that decides with them', () => {
    const plan = deriveDefaults({ analysis: [errorCheck(0.03)] }, fleet(100_000), privacy);
    expect(plan.analysis).toEqual([errorCheck(0.03)]);
    expect(plan.steps[0]!.percent).toBe(5); // 2 % (2,000 a day per arm) resolves only 0.041
    expect(powerReport(plan, fleet(100_000), privacy).canDecide).toBe(true);
  });

  it('rounds figures up to two significant digits', () => {
    expect([niceCeil(0.01512), niceCeil(0.04), niceCeil(8.82), niceCeil(123)]).toEqual([0.016, 0.04, 8.9, 130]);
  });

  it('docs/rollouts.md holds the table this function computes', async () => {
    expect(readFileSync(new URL('../../../docs/rollouts.md', import.meta.url), 'utf8')).toContain(await powerTable());
  });
});
