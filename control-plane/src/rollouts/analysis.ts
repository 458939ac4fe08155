/**
 * @module rollouts/analysis
 * The step analysis (DESIGN §8): challenger vs champion on each configured metric, from the
 * device health released with each day's window (drift/close.ts) — the challenger version's
 * devices against the champion version's, in the latest window closed after the step started.
 * Every comparison carries its threshold, observed difference, sample sizes and data freshness.
 *
 * Rates are device-level shares (one device, one vote). A metric passes when the upper end of
 * the difference (observed + 2 SE, SE from the share's binomial spread and the DP noise) is within
 * tolerance, fails when the lower end (observed − 2 SE) exceeds it, and is inconclusive between;
 * below `minSample` devices in either arm it has no data. NoData and inconclusive hold; a failed
 * critical metric rolls back; all passing promotes.
 *
 * The control arm is the rollout's control range (its devices' champion health is aggregated
 * apart at ingest) when it reported, else every champion device; with a control range, a
 * sample-ratio check joins the metrics. Prediction drift and estimated accuracy come from the
 * versions' released drift verdicts (judgeOutputs); label accuracy from the apps' feedback in the
 * health records. Not yet: data within a day.
 */
import type { MetricCheck } from '@modelfleet/protocol';
import type { DriftVerdict, OutputVerdict } from '../drift/detect.ts';
import type { HealthSummary } from '../drift/health-summary.ts';
import type { Env } from '../env.ts';
import type { RolloutView } from './machine.ts';

export interface MetricResult {
  metric: string;
  status: 'pass' | 'fail' | 'inconclusive' | 'no_data';
  threshold: number;
  /** challenger − champion (rates, latency); champion − challenger for accuracies. */
  observed: number | null;
  standardError: number | null;
  sample: { challenger: number; control: number };
  freshness: string | null;
  critical: boolean;
}

export interface Decision {
  outcome: 'promote' | 'hold' | 'rollback';
  summary: string;
  step: number;
  at: string;
  metrics: MetricResult[];
}

interface Arm { devices: number; summary: HealthSummary; noise: number; closedAt: string }

/** The latest released health window of a version (in a cohort) that closed after `since`. */
async function arm(env: Env, modelId: number, version: number, since: string, cohort = 'health'): Promise<Arm | null> {
  const row = await env.DB.prepare(
    'SELECT devices, verdict, noise, closed_at FROM drift_windows WHERE model_id = ? AND version = ? AND cohort = ? AND released = 1 AND closed_at >= ? ORDER BY window DESC LIMIT 1',
  ).bind(modelId, version, cohort, since).first<{ devices: number; verdict: string; noise: string | null; closed_at: string }>();
  if (!row) return null;
  const noise = row.noise ? (JSON.parse(row.noise) as { categoricalBins?: number | null }).categoricalBins ?? 0 : 0;
  return { devices: row.devices, summary: JSON.parse(row.verdict) as HealthSummary, noise, closedAt: row.closed_at };
}

/** A version's released drift verdict (its output monitoring) in the latest window after `since`. */
export interface DriftArm { devices: number; outputs: OutputVerdict | null; closedAt: string }

async function driftArm(env: Env, modelId: number, version: number, since: string): Promise<DriftArm | null> {
  const row = await env.DB.prepare(
    "SELECT devices, verdict, closed_at FROM drift_windows WHERE model_id = ? AND version = ? AND cohort = 'all' AND released = 1 AND closed_at >= ? ORDER BY window DESC LIMIT 1",
  ).bind(modelId, version, since).first<{ devices: number; verdict: string | null; closed_at: string }>();
  if (!row?.verdict) return null;
  return { devices: row.devices, outputs: (JSON.parse(row.verdict) as DriftVerdict).outputs, closedAt: row.closed_at };
}

/**
 * Output metrics from the drift verdicts: prediction drift fails when the challenger's predictions
 * moved off its validation baseline while the champion's did not (both moving is the inputs'
 * doing: inconclusive); estimated accuracy compares the label-free estimates (calibrated models).
 */
export function judgeOutputs(check: MetricCheck, challenger: DriftArm | null, control: DriftArm | null): MetricResult {
  const base = { metric: check.metric, threshold: check.tolerance, critical: check.critical, standardError: null };
  const sample = { challenger: challenger?.devices ?? 0, control: control?.devices ?? 0 };
  const a = challenger?.outputs;
  const b = control?.outputs;
  if (!a || !b || sample.challenger < check.minSample || sample.control < check.minSample) {
    return { ...base, status: 'no_data', observed: null, sample, freshness: challenger && control ? [challenger.closedAt, control.closedAt].sort()[0]! : null };
  }
  const freshness = [challenger!.closedAt, control!.closedAt].sort()[0]!;
  if (check.metric === 'prediction_drift') {
    const status = !a.predictionDrift ? 'pass' : b.predictionDrift ? 'inconclusive' : 'fail';
    return { ...base, status, observed: a.predictionDrift ? 1 : 0, sample, freshness };
  }
  if (a.estimatedAccuracy === null || b.estimatedAccuracy === null) return { ...base, status: 'no_data', observed: null, sample, freshness };
  const observed = b.estimatedAccuracy - a.estimatedAccuracy; // harm: how much lower the challenger's estimate is
  return { ...base, status: observed <= check.tolerance ? 'pass' : 'fail', observed, sample, freshness };
}

const OUTPUT_METRICS = new Set(['prediction_drift', 'estimated_accuracy']);

/** Device-level rates; `better: 'higher'` for accuracies (harm = control − challenger). */
const RATES: Record<string, (h: HealthSummary) => { value: number; n: number; better?: 'higher' }> = {
  label_accuracy: (h) => ({ value: h.feedback?.shares.correct ?? 0, n: h.feedback?.devices ?? 0, better: 'higher' }),
  load_failure_rate: (h) => ({ value: h.load.shares.load_failed ?? 0, n: h.load.devices }),
  verify_failure_rate: (h) => ({ value: h.load.shares.verify_failed ?? 0, n: h.load.devices }),
  inference_error_rate: (h) => ({ value: h.predict.shares.inference_error ?? 0, n: h.predict.devices }),
  non_finite_rate: (h) => ({ value: h.predict.shares.non_finite ?? 0, n: h.predict.devices }),
};

export function judge(check: MetricCheck, challenger: Arm | null, control: Arm | null): MetricResult {
  const base = { metric: check.metric, threshold: check.tolerance, critical: check.critical };
  const noData = (sample = { challenger: challenger?.devices ?? 0, control: control?.devices ?? 0 }): MetricResult =>
    ({ ...base, status: 'no_data', observed: null, standardError: null, sample, freshness: challenger && control ? [challenger.closedAt, control.closedAt].sort()[0]! : null });
  if (!challenger || !control) return noData();
  const freshness = [challenger.closedAt, control.closedAt].sort()[0]!;
  if (check.metric === 'latency_p95_ms') {
    const a = challenger.summary.latency;
    const b = control.summary.latency;
    const sample = { challenger: a.devices, control: b.devices };
    if (a.devices < check.minSample || b.devices < check.minSample || a.p95Ms === null || b.p95Ms === null) return noData(sample);
    const observed = a.p95Ms - b.p95Ms;
    return { ...base, status: observed <= check.tolerance ? 'pass' : 'fail', observed, standardError: null, sample, freshness };
  }
  const rate = RATES[check.metric];
  if (!rate) return noData({ challenger: 0, control: 0 }); // sketch and feedback metrics: not wired yet
  const a = rate(challenger.summary);
  const b = rate(control.summary);
  const sample = { challenger: a.n, control: b.n };
  if (a.n < check.minSample || b.n < check.minSample) return noData(sample);
  const variance = (p: number, n: number, noise: number) => (p * (1 - p)) / n + (noise / n) ** 2;
  const standardError = Math.sqrt(variance(a.value, a.n, challenger.noise) + variance(b.value, b.n, control.noise));
  const observed = a.better === 'higher' ? b.value - a.value : a.value - b.value;
  const status = observed + 2 * standardError <= check.tolerance ? 'pass' : observed - 2 * standardError > check.tolerance ? 'fail' : 'inconclusive';
  return { ...base, status, observed, standardError, sample, freshness };
}

/**
 * Sample-ratio mismatch: the challenger and control ranges are equal, so their reporting devices
 * should be too (binomial, p = ½). A mismatch at p < 0.001 means assignment or reporting is broken
 * and nothing else can be trusted: the metric fails (non-critical: the rollout holds).
 */
export function sampleRatio(challenger: number, control: number, freshness: string): MetricResult {
  const n = challenger + control;
  const z = n > 0 ? (challenger - control) / Math.sqrt(n) : 0;
  return {
    metric: 'sample_ratio', status: Math.abs(z) > 3.29 ? 'fail' : 'pass', threshold: 3.29, observed: z, standardError: null,
    sample: { challenger, control }, freshness, critical: false,
  };
}

export async function analyse(env: Env, r: RolloutView & { modelId: number }): Promise<Decision> {
  const since = r.stepStartedAt ?? new Date(0).toISOString();
  // The control range when its devices reported (equal size, same days); else every champion device.
  const [challenger, controlRange, champion] = await Promise.all([
    arm(env, r.modelId, r.challenger, since), arm(env, r.modelId, r.champion, since, 'health-control'), arm(env, r.modelId, r.champion, since),
  ]);
  const control = controlRange ?? champion;
  const needsOutputs = r.plan.analysis.some((c) => OUTPUT_METRICS.has(c.metric));
  const [challengerDrift, championDrift] = needsOutputs
    ? await Promise.all([driftArm(env, r.modelId, r.challenger, since), driftArm(env, r.modelId, r.champion, since)])
    : [null, null];
  const metrics = r.plan.analysis.map((check) => (OUTPUT_METRICS.has(check.metric) ? judgeOutputs(check, challengerDrift, championDrift) : judge(check, challenger, control)));
  // Targeting keeps ineligible devices off the challenger but not out of the control range: no SRM then.
  if (challenger && controlRange && !r.plan.targeting) metrics.push(sampleRatio(challenger.devices, controlRange.devices, challenger.closedAt));
  const failed = metrics.filter((m) => m.status === 'fail');
  const outcome = failed.some((m) => m.critical) ? 'rollback' : metrics.length > 0 && metrics.every((m) => m.status === 'pass') ? 'promote' : 'hold';
  const pending = metrics.filter((m) => m.status !== 'pass').map((m) => `${m.metric} ${m.status.replace('_', ' ')}`);
  const summary = outcome === 'rollback'
    ? `roll back: ${failed.filter((m) => m.critical).map((m) => `${m.metric} ${m.observed?.toFixed(4)} > ${m.threshold}`).join(', ')}`
    : outcome === 'promote' ? `promote: all ${metrics.length} metrics within tolerance` : `hold: ${pending.join(', ')}`;
  return { outcome, summary, step: r.step, at: new Date().toISOString(), metrics };
}
