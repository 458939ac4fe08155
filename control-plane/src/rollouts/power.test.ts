import { readFileSync } from 'node:fs';
import { DEFAULT_ANALYSIS, DEFAULT_POLICY, DEFAULT_STEPS, policyViolations } from '@modelfleet/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPrivacy, powerTable } from '../../../test/sim/power-table.ts';
import type { HealthSummary } from '../drift/health-summary.ts';
import { judge } from './judge.ts';
import { CURRENT_RULE, type Privacy, daysToDecide, deriveDefaults, differenceSE, niceCeil, powerReport } from './power.ts';

let privacy: Privacy;
beforeAll(async () => void (privacy = await defaultPrivacy()));
const fleet = (devicesPerDay: number, windows = 7) => ({ devicesPerDay, windows, basis: 'test' });
const errorCheck = (tolerance: number, minSample = 1000) => ({ metric: 'inference_error_rate' as const, tolerance, minSample, critical: true });

/** A health arm as judge.ts reads it: `errors` of `n` devices erred, the release noise σ. */
const arm = (errors: number, n: number, noise: number) => {
  const share = errors / n;
  const summary = { devices: n, load: { devices: n, shares: {} }, predict: { devices: n, shares: { inference_error: share } }, latency: { devices: n, p50Ms: 1, p95Ms: 1, over1sShare: 0 } } as unknown as HealthSummary;
  return { devices: n, summary, noise, closedAt: '2026-12-01T00:00:00.000Z' };
};

/** Standard normal draw (Box–Muller) from a seeded generator, for a reproducible Monte Carlo. */
function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return { u, normal: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) };
}

describe('power analysis', () => {
  it('uses the release noise of production (σ ≈ 19.9 on each count at ε = 2, health on 10 %)', () => {
    expect(privacy.noiseSigma).toBeCloseTo(19.87, 1);
  });

  it('computes the SE judge.ts computes for the same arms', () => {
    const a = arm(50, 5000, privacy.noiseSigma);
    const b = arm(50, 5000, privacy.noiseSigma);
    expect(judge(errorCheck(0.01), a, b).standardError).toBeCloseTo(differenceSE(0.01, 5000, 5000, privacy.noiseSigma), 12);
  });

  it("reproduces the issue's figures: at 5,000 devices per arm the default tolerances cannot decide; ~88,000 per arm are needed for verify failures", () => {
    const r = powerReport({ steps: [{ percent: 50, bakeSeconds: 3600 }, { percent: 100, bakeSeconds: 3600 }], analysis: DEFAULT_ANALYSIS }, fleet(10_000), privacy);
    expect(r.steps[0]!.devicesPerDay).toEqual({ challenger: 5000, control: 5000 });
    expect(r.canDecide).toBe(false);
    const verify = r.steps[0]!.metrics.find((m) => m.metric === 'verify_failure_rate')!;
    expect(verify.mde!).toBeGreaterThan(0.015); // 2.84 SE at 5,000 per arm, against a 0.001 tolerance
    expect(verify.requiredPerArm!).toBeGreaterThan(80_000);
    expect(verify.requiredPerArm!).toBeLessThan(100_000);
    expect(r.suggestions.join('\n')).toMatch(/looser tolerances: .*verify_failure_rate ≥ 0\.017/);
  });

  it('solves for the deciding sample exactly: (k + z)·SE = tolerance there', () => {
    const t = daysToDecide(errorCheck(0.02), 1000, 1000, privacy.noiseSigma, CURRENT_RULE);
    const n = t * 1000;
    expect((CURRENT_RULE.seMultiplier + CURRENT_RULE.zPower) * differenceSE(0.01, n, n, privacy.noiseSigma)).toBeCloseTo(0.02, 10);
  });

  it('predicts the power of the production judge: at the required sample a harmless challenger passes ~80 % of the time', () => {
    const check = errorCheck(0.02);
    const n = Math.ceil(daysToDecide(check, 1, 1, privacy.noiseSigma, CURRENT_RULE));
    const r = rng(7);
    const binomial = (p: number) => { let k = 0; for (let i = 0; i < n; i++) if (r.u() < p) k++; return k; };
    let passed = 0;
    const runs = 400;
    for (let i = 0; i < runs; i++) {
      // The released count: the true count plus the release's noise (a continuous stand-in for the discrete Gaussian).
      const count = () => Math.min(n, Math.max(0, binomial(0.01) + privacy.noiseSigma * r.normal()));
      if (judge(check, arm(count(), n, privacy.noiseSigma), arm(count(), n, privacy.noiseSigma)).status === 'pass') passed++;
    }
    expect(passed / runs).toBeGreaterThan(0.72);
    expect(passed / runs).toBeLessThan(0.88);
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
    const r = powerReport({ steps: [{ percent: 10, bakeSeconds: 3600 }, { percent: 100, bakeSeconds: 0 }], analysis: [errorCheck(0)] }, fleet(1_000_000), privacy);
    expect(r.steps[0]!.metrics[0]).toMatchObject({ canDecide: false, requiredPerArm: null });
    expect(r.steps[1]!.judged).toBe(false);
    expect(powerReport({ steps: [{ percent: 100, bakeSeconds: 0 }], analysis: DEFAULT_ANALYSIS }, fleet(1_000_000), privacy).problems).toContain('the plan has no step below 100 %: nothing is compared with a control range');
  });

  it('derives defaults that decide and fit the default policy from 20,000 devices a day', () => {
    for (const devices of [20_000, 100_000, 1_000_000, 10_000_000]) {
      const plan = deriveDefaults({}, fleet(devices), privacy);
      expect(powerReport(plan, fleet(devices), privacy).canDecide, `${devices}`).toBe(true);
      expect(policyViolations({ ...plan, gate: { metric: 'auc', margin: 0, higherIsBetter: true } }, DEFAULT_POLICY), `${devices}`).toEqual([]);
      // Never tighter than the fixed defaults, never looser than needed.
      for (const c of plan.analysis) expect(c.tolerance).toBeGreaterThanOrEqual(DEFAULT_ANALYSIS.find((d) => d.metric === c.metric)!.tolerance);
    }
    // The fixed defaults decide only at the largest fleet.
    expect(powerReport({ steps: DEFAULT_STEPS, analysis: DEFAULT_ANALYSIS }, fleet(1_000_000), privacy).canDecide).toBe(false);
  });

  it("respects a stricter policy: the first step within its maxFirstStepPercent, bakes at least its minBakeSeconds", () => {
    const plan = deriveDefaults({}, fleet(1_000_000), privacy, CURRENT_RULE, 5, 7200);
    expect(plan.steps[0]!.percent).toBeLessThanOrEqual(5);
    expect(plan.steps.every((s) => s.bakeSeconds === 7200)).toBe(true);
    expect(policyViolations({ ...plan, gate: { metric: 'auc', margin: 0, higherIsBetter: true } }, { ...DEFAULT_POLICY, maxFirstStepPercent: 5, minBakeSeconds: 7200 })).toEqual([]);
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

  it('README holds the table this function computes', async () => {
    expect(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')).toContain(await powerTable());
  });
});
