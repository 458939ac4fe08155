import { boxMuller, seededUniform } from '@modelfleet/protocol/testing';
import { describe, expect, it } from 'vitest';
import type { HealthSummary } from '../drift/health-summary.ts';
import { judge } from './judge.ts';
import {
  alphaPerMetric,
  armVariance,
  combinedNoise,
  confidenceSequence,
  halfWidth,
  minimumDetectableEffect,
  mixtureRatio,
  projectDecision,
  sequentialStatus,
} from './sequential.ts';

describe('normal-mixture confidence sequence', () => {
  it('matches the closed form at a hand-computed point', () => {
    // V = 0.0125, τ² = 0.0025, α = 0.05: w² = V(V+τ²)/τ² · ln((V+τ²)/(Vα²)) = 0.075 · ln 480.
    expect(halfWidth(0.0125, 0.0025, 0.05)).toBeCloseTo(Math.sqrt(0.075 * Math.log(480)), 12);
    expect(halfWidth(0.0125, 0.0025, 0.05)).toBeCloseTo(0.680466, 5);
    expect(halfWidth(0, 0.0025, 0.05)).toBe(0);
  });

  it('is the set of differences the mixture ratio does not reject at 1/α (Ville)', () => {
    for (const [v, tau2, alpha] of [
      [1e-4, 2.5e-5, 0.0125],
      [4e-6, 1e-6, 0.05],
      [0.01, 0.04, 0.01],
    ] as const) {
      const w = halfWidth(v, tau2, alpha);
      expect(mixtureRatio(0.003 + w, v, tau2, 0.003)).toBeCloseTo(1 / alpha, 6);
      expect(mixtureRatio(0.003 - w, v, tau2, 0.003)).toBeCloseTo(1 / alpha, 6);
      expect(mixtureRatio(0.003 + 0.9 * w, v, tau2, 0.003)).toBeLessThan(1 / alpha);
    }
  });

  it('is wider than ± 2 SE at one look (the price of looking at every release): 3.4–4.5 SE while SE ≤ τ', () => {
    for (const se of [0.0005, 0.001, 0.002, 0.005]) {
      const w = halfWidth(se * se, 0.005 ** 2, 0.0125);
      expect(w).toBeGreaterThan(3.4 * se);
      expect(w).toBeLessThan(4.5 * se);
    }
  });

  it('covers the true difference at every look in ≥ 1 − α of runs; ± 2 SE checked at every look does not', () => {
    // 2,000 runs of 50 looks: each look adds an independent Gaussian increment (the releases of a step).
    const uniform = seededUniform(16);
    const normal = boxMuller(uniform);
    const alpha = 0.05;
    const tau2 = 0.002 ** 2;
    let csMiss = 0;
    let naiveMiss = 0;
    for (let run = 0; run < 2000; run++) {
      let sum = 0;
      let missedCs = false;
      let missedNaive = false;
      for (let k = 1; k <= 50; k++) {
        sum += 0.002 * normal(); // each release: an estimate of Δ = 0 with SE 0.002
        const estimate = sum / k;
        const v = 0.002 ** 2 / k;
        if (Math.abs(estimate) > halfWidth(v, tau2, alpha)) missedCs = true;
        if (Math.abs(estimate) > 2 * Math.sqrt(v)) missedNaive = true;
      }
      csMiss += missedCs ? 1 : 0;
      naiveMiss += missedNaive ? 1 : 0;
    }
    expect(csMiss / 2000).toBeLessThanOrEqual(alpha);
    expect(naiveMiss / 2000).toBeGreaterThan(3 * alpha); // peeking: several times the nominal error
  });

  it('passes, fails or continues against the tolerance', () => {
    expect(sequentialStatus(0, 1e-6, 0.005, 0.0125).status).toBe('pass');
    expect(sequentialStatus(0.02, 1e-6, 0.005, 0.0125).status).toBe('fail');
    expect(sequentialStatus(0.004, 1e-6, 0.005, 0.0125).status).toBe('inconclusive');
    const cs = confidenceSequence(0.01, 4e-6, 0.005, 0.05);
    expect(cs.upper - cs.lower).toBeCloseTo(2 * cs.halfWidth, 12);
  });

  it("puts every release's DP noise in the variance; α splits over metrics", () => {
    expect(armVariance(0.1, 1000, [20, 20])).toBeCloseTo(0.09 / 1000 + 800 / 1e6, 12);
    expect(combinedNoise([3, 4])).toBe(5);
    expect(alphaPerMetric(4)).toBeCloseTo(0.0125, 12);
    expect(alphaPerMetric(0)).toBe(0.05);
  });

  it('minimum detectable effect shrinks with more devices and grows with more releases of the same devices', () => {
    const mde = (devicesPerArm: number, releases: number) =>
      minimumDetectableEffect({
        devicesPerArm,
        releases,
        noiseSigma: 20,
        rate: 0.002,
        tolerance: 0.005,
        alpha: 0.0125,
      });
    expect(mde(20_000, 1).halfWidth).toBeLessThan(mde(5_000, 1).halfWidth);
    expect(mde(5_000, 5).halfWidth).toBeGreaterThan(mde(5_000, 1).halfWidth);
    expect(mde(5_000, 1).rollbackAbove).toBeCloseTo(0.005 + mde(5_000, 1).halfWidth, 12);
  });
});

describe('sequential judgement of a rate', () => {
  const summary = (errorShare: number, devices: number): HealthSummary => ({
    devices,
    load: { devices, shares: { ok: 1, load_failed: 0, verify_failed: 0 } },
    predict: { devices, shares: { ok: 1 - errorShare, inference_error: errorShare, non_finite: 0 } },
    backend: { devices, shares: { webgpu: 0, wasm: 1, cpu: 0 } },
    feedback: { devices, shares: { correct: 1, incorrect: 0 } },
    latency: { devices, p50Ms: 5, p95Ms: 10, over1sShare: 0 },
  });
  const arm = (e: number, n: number, releases = 1) => ({
    devices: n,
    summary: summary(e, n),
    noise: 0,
    closedAt: '2026-12-03T00:00:00.000Z',
    releases,
  });
  const check = { metric: 'inference_error_rate' as const, tolerance: 0.05, minSample: 20, critical: true };
  const rule = { kind: 'sequential', alpha: 0.05 } as const;

  it('no data below minSample, whatever the rule: never a pass', () => {
    expect(judge(check, arm(0, 19), arm(0, 40), rule).status).toBe('no_data');
  });

  it("holds where ± 2 SE would already fail on 20 devices, and fails on 80 (the integration test's numbers)", () => {
    expect(judge(check, arm(0.5, 20), arm(0, 20)).status).toBe('fail'); // the fixed rule
    const first = judge(check, arm(0.5, 20), arm(0, 20), rule);
    expect(first).toMatchObject({ status: 'inconclusive', sequence: { alpha: 0.05, releases: 1 } });
    const second = judge(check, arm(0.5, 80, 2), arm(0, 80, 2), rule);
    expect(second.status).toBe('fail');
    expect(second.sequence!.lower).toBeGreaterThan(0.05);
    expect(second.sequence!.releases).toBe(2);
  });
});

describe('projectDecision: where an undecided metric is heading', () => {
  const base = { tolerance: 0.01, alpha: 0.0125, releases: 1, noiseSigma: 4.4, perSecond: 1 };
  const variance = (p: number, n: number) => (2 * (p * (1 - p))) / n + 2 * (4.4 / n) ** 2;

  it('an estimate well inside the tolerance passes at a later look; the one it names really passes there', () => {
    const v = variance(0.002, 1000);
    expect(sequentialStatus(0.001, v, 0.01, 0.0125).status).toBe('inconclusive');
    const p = projectDecision({ ...base, observed: 0.001, variance: v, devices: 1000, reported: 1500 })!;
    expect(p.outcome).toBe('pass');
    expect(p.devicesPerArm % 4000).toBe(0); // 4 000, 16 000 … : the increment schedule
    const looks = Math.log(p.devicesPerArm / 1000) / Math.log(4); // increments added on the way
    const there = (2 * 0.002 * 0.998) / p.devicesPerArm + (2 * (1 + looks) * 4.4 ** 2) / p.devicesPerArm ** 2;
    expect(sequentialStatus(0.001, there, 0.01, 0.0125).status).toBe('pass');
    expect(p.seconds).toBe(p.devicesPerArm - 1500); // one device a second, 1,500 already in
  });

  it('an estimate far beyond the tolerance is projected to fail; one on the tolerance never decides', () => {
    const v = variance(0.03, 1000);
    expect(projectDecision({ ...base, observed: 0.03, variance: v, devices: 1000, reported: 1000 })!.outcome).toBe(
      'fail',
    );
    expect(projectDecision({ ...base, observed: 0.01, variance: v, devices: 1000, reported: 1000 })).toBeNull();
    expect(
      projectDecision({
        ...base,
        observed: 0.001,
        variance: variance(0.002, 1000),
        devices: 1000,
        reported: 1000,
        perSecond: null,
      })!.seconds,
    ).toBeNull();
  });
});
