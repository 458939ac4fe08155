import { describe, expect, it } from 'vitest';
import type { HealthSummary } from '../drift/health-summary.ts';
import { judge, judgeOutputs } from './judge.ts';

const summary = (errorShare: number, devices: number, p95: number | null = 10, correct = 0.9): HealthSummary => ({
  devices,
  load: { devices, shares: { ok: 1, load_failed: 0, verify_failed: 0 } },
  predict: { devices, shares: { ok: 1 - errorShare, inference_error: errorShare, non_finite: 0 } },
  backend: { devices, shares: { webgpu: 0, wasm: 1, cpu: 0 } },
  feedback: { devices, shares: { correct, incorrect: 1 - correct } },
  latency: { devices, p50Ms: 5, p95Ms: p95, over1sShare: 0 },
});
const arm = (errorShare: number, devices: number, p95?: number | null, correct?: number) => ({
  devices,
  summary: summary(errorShare, devices, p95, correct),
  noise: 0,
  closedAt: '2026-11-22T00:15:00.000Z',
});
const check = (metric: 'inference_error_rate' | 'latency_p95_ms', tolerance: number, minSample = 1000) => ({
  metric,
  tolerance,
  minSample,
  critical: true,
});

describe('rollout metric judgement', () => {
  it('has no data below the minimum sample, or without a window — never a pass', () => {
    expect(judge(check('inference_error_rate', 0.01), arm(0, 999), arm(0, 5000))).toMatchObject({
      status: 'no_data',
      sample: { challenger: 999, control: 5000 },
    });
    expect(judge(check('inference_error_rate', 0.01), null, arm(0, 5000))).toMatchObject({
      status: 'no_data',
      observed: null,
    });
  });

  it('passes when the upper bound is within tolerance, fails when the lower bound is beyond, otherwise is inconclusive', () => {
    expect(judge(check('inference_error_rate', 0.01), arm(0.001, 20_000), arm(0.001, 20_000)).status).toBe('pass');
    expect(judge(check('inference_error_rate', 0.01), arm(0.05, 20_000), arm(0.001, 20_000))).toMatchObject({
      status: 'fail',
      freshness: '2026-11-22T00:15:00.000Z',
    });
    const close = judge(check('inference_error_rate', 0.01), arm(0.012, 2000), arm(0.001, 2000));
    expect(close.status).toBe('inconclusive');
    expect(close.observed!).toBeCloseTo(0.011, 6);
  });

  it('label accuracy: harm is how much lower the challenger is', () => {
    const c = { metric: 'label_accuracy' as const, tolerance: 0.01, minSample: 1000, critical: true };
    expect(judge(c, arm(0, 20_000, 10, 0.95), arm(0, 20_000, 10, 0.9)).status).toBe('pass');
    expect(judge(c, arm(0, 20_000, 10, 0.8), arm(0, 20_000, 10, 0.9))).toMatchObject({ status: 'fail' });
    expect(judge(c, arm(0, 20_000, 10, 0.8), arm(0, 20_000, 10, 0.9)).observed!).toBeCloseTo(0.1, 10);
  });

  it('compares latency p95 against its tolerance', () => {
    expect(judge(check('latency_p95_ms', 20), arm(0, 5000, 30), arm(0, 5000, 15)).status).toBe('pass');
    expect(judge(check('latency_p95_ms', 20), arm(0, 5000, 60), arm(0, 5000, 15))).toMatchObject({
      status: 'fail',
      observed: 45,
    });
    expect(judge(check('latency_p95_ms', 20), arm(0, 5000, null), arm(0, 5000, 15)).status).toBe('no_data');
  });
});

describe('output metrics from drift verdicts', () => {
  const outputs = (predictionDrift: boolean, estimatedAccuracy: number | null) => ({
    predictionDrift,
    estimatedAccuracy,
    calibrated: true,
    baselineAccuracy: 0.9,
    feedbackAccuracy: null,
    accuracyDrop: null,
    accuracyAlarm: false,
  });
  const drift = (pd: boolean, acc: number | null, devices = 5000) => ({
    devices,
    outputs: outputs(pd, acc),
    closedAt: '2026-11-22T00:15:00.000Z',
  });
  const check = (metric: 'prediction_drift' | 'estimated_accuracy', tolerance = 0.02) => ({
    metric,
    tolerance,
    minSample: 1000,
    critical: true,
  });

  it('prediction drift fails only when the challenger alone moved off its baseline', () => {
    expect(judgeOutputs(check('prediction_drift'), drift(false, 0.9), drift(false, 0.9)).status).toBe('pass');
    expect(judgeOutputs(check('prediction_drift'), drift(true, 0.9), drift(false, 0.9))).toMatchObject({
      status: 'fail',
      observed: 1,
    });
    expect(judgeOutputs(check('prediction_drift'), drift(true, 0.9), drift(true, 0.9)).status).toBe('inconclusive'); // the inputs moved
  });

  it('estimated accuracy compares the label-free estimates; missing verdicts or small samples are no data', () => {
    expect(judgeOutputs(check('estimated_accuracy'), drift(false, 0.89), drift(false, 0.9)).status).toBe('pass');
    const worse = judgeOutputs(check('estimated_accuracy'), drift(false, 0.8), drift(false, 0.9));
    expect(worse.status).toBe('fail');
    expect(worse.observed!).toBeCloseTo(0.1, 10);
    expect(judgeOutputs(check('estimated_accuracy'), null, drift(false, 0.9)).status).toBe('no_data');
    expect(judgeOutputs(check('estimated_accuracy'), drift(false, 0.9, 10), drift(false, 0.9)).status).toBe('no_data');
    expect(judgeOutputs(check('estimated_accuracy'), drift(false, null), drift(false, 0.9)).status).toBe('no_data');
    // An uncalibrated estimate (mean confidence, no reliability table) is no evidence between two models.
    const uncalibrated = { ...drift(false, 0.95), outputs: { ...drift(false, 0.95).outputs, calibrated: false } };
    expect(judgeOutputs(check('estimated_accuracy'), uncalibrated, drift(false, 0.9)).status).toBe('no_data');
  });
});

describe('load and verify failures when the control arm loaded nothing', () => {
  const loads = (failed: number, devices: number): HealthSummary =>
    ({
      devices,
      load: { devices, shares: { ok: 1 - failed, load_failed: failed, verify_failed: 0 } },
      predict: { devices: 0, shares: {} },
      backend: { devices: 0, shares: {} },
      latency: { devices: 0, p50Ms: null, p95Ms: null, over1sShare: 0 },
    }) as unknown as HealthSummary;
  const armOf = (s: HealthSummary) => ({
    devices: s.devices,
    summary: s,
    noise: 0,
    closedAt: '2026-12-03T00:00:00.000Z',
  });
  const check = { metric: 'load_failure_rate' as const, tolerance: 0.05, minSample: 20, critical: true };

  it("judges the challenger's failures against 0, on its own spread", () => {
    const empty = armOf(loads(0, 0));
    expect(judge(check, armOf(loads(0, 400)), empty)).toMatchObject({
      status: 'pass',
      observed: 0,
      sample: { challenger: 400, control: 0 },
    });
    const failing = judge(check, armOf(loads(0.5, 400)), empty);
    expect(failing.status).toBe('fail');
    expect(failing.standardError!).toBeCloseTo(Math.sqrt(0.25 / 400), 12);
    // Too few challenger loads: no data, as ever.
    expect(judge(check, armOf(loads(0, 10)), empty).status).toBe('no_data');
  });

  it('an inference-error arm with no predictions is still no data (only load metrics take the empty control as 0)', () => {
    expect(judge({ ...check, metric: 'inference_error_rate' }, armOf(loads(0, 400)), armOf(loads(0, 0))).status).toBe(
      'no_data',
    );
  });
});
