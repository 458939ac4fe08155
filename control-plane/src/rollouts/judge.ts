/**
 * @module rollouts/judge
 * Pure judgement of one metric for a rollout step: challenger arm vs control arm (see
 * analysis.ts for where the arms come from). No I/O, so simulations run the production rule.
 */
import type { MetricCheck } from '@modelfleet/protocol';
import type { OutputVerdict } from '../drift/detect.ts';
import type { HealthSummary } from '../drift/health-summary.ts';
import type { NetworkCounts } from '../drift/networks.ts';
import { type Projection, sequentialStatus } from './sequential.ts';

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
  /** Sequential judgement only: the always-valid confidence sequence at its level α (sequential.ts). */
  sequence?: { lower: number; upper: number; alpha: number; releases: number };
  /** Sequential and undecided: the look that would decide it if the estimate held, and when (null: none within six looks). */
  projection?: Projection | null;
}

export interface Decision {
  outcome: 'promote' | 'hold' | 'rollback';
  summary: string;
  step: number;
  at: string;
  metrics: MetricResult[];
}

/**
 * One arm's released health: `noise` is the σ (in devices) of the noise on its counts — for a sum
 * of releases, √Σσ² (sequential.ts combinedNoise) — and `releases` how many releases it sums.
 */
export interface Arm {
  devices: number;
  summary: HealthSummary;
  noise: number;
  closedAt: string;
  networks?: NetworkCounts | null;
  releases?: number;
}

/**
 * How a rate is judged: 'fixed' (one look: observed ± 2 SE against the tolerance — the daily
 * windows) or 'sequential' at level `alpha` (an always-valid confidence sequence: a step's
 * accumulating increments, checked after every release).
 */
export type Rule = { kind: 'fixed' } | { kind: 'sequential'; alpha: number };
const FIXED: Rule = { kind: 'fixed' };

/** A version's released drift verdict (its output monitoring) in the latest window after `since`. */
export interface DriftArm {
  devices: number;
  outputs: OutputVerdict | null;
  closedAt: string;
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
    return {
      ...base,
      status: 'no_data',
      observed: null,
      sample,
      freshness: challenger && control ? [challenger.closedAt, control.closedAt].sort()[0]! : null,
    };
  }
  const freshness = [challenger!.closedAt, control!.closedAt].sort()[0]!;
  if (check.metric === 'prediction_drift') {
    const status = !a.predictionDrift ? 'pass' : b.predictionDrift ? 'inconclusive' : 'fail';
    return { ...base, status, observed: a.predictionDrift ? 1 : 0, sample, freshness };
  }
  // Challenger and control are different models: mean confidences are comparable only when each is
  // calibrated by its own reliability table. Uncalibrated estimates are no evidence either way.
  if (a.estimatedAccuracy === null || b.estimatedAccuracy === null || a.calibrated !== true || b.calibrated !== true) {
    return { ...base, status: 'no_data', observed: null, sample, freshness };
  }
  const observed = b.estimatedAccuracy - a.estimatedAccuracy; // harm: how much lower the challenger's estimate is
  return { ...base, status: observed <= check.tolerance ? 'pass' : 'fail', observed, sample, freshness };
}

/** Device-level rates; `better: 'higher'` for accuracies (harm = control − challenger). */
const RATES: Record<string, (h: HealthSummary) => { value: number; n: number; better?: 'higher' }> = {
  label_accuracy: (h) => ({ value: h.feedback?.shares.correct ?? 0, n: h.feedback?.devices ?? 0, better: 'higher' }),
  load_failure_rate: (h) => ({ value: h.load.shares.load_failed ?? 0, n: h.load.devices }),
  verify_failure_rate: (h) => ({ value: h.load.shares.verify_failed ?? 0, n: h.load.devices }),
  inference_error_rate: (h) => ({ value: h.predict.shares.inference_error ?? 0, n: h.predict.devices }),
  non_finite_rate: (h) => ({ value: h.predict.shares.non_finite ?? 0, n: h.predict.devices }),
};

/** A rate metric's value in a released health summary (power analysis reads the fleet's rates this way); undefined for other metrics. */
export const metricRate = (metric: string, h: HealthSummary): { value: number; n: number } | undefined =>
  RATES[metric]?.(h);

/**
 * Failures to load or verify the model. Only devices that loaded a version in the period report
 * them; in a rollout that is every challenger device (each loads the challenger) but hardly any
 * control device (it runs the champion it loaded long ago). When the control arm measured no loads
 * the challenger's rate is judged against 0 — the champion already runs on those devices — with
 * the challenger's spread alone: conservative for the challenger, never a reason to promote it.
 */
export const LOAD_METRICS: ReadonlySet<string> = new Set(['load_failure_rate', 'verify_failure_rate']);

/** The metrics a sequential rule splits its α over (those with a standard error). */
export const isRateMetric = (metric: string): boolean => metric in RATES;

export function judge(
  check: MetricCheck,
  challenger: Arm | null,
  control: Arm | null,
  rule: Rule = FIXED,
): MetricResult {
  const base = { metric: check.metric, threshold: check.tolerance, critical: check.critical };
  const noData = (sample = { challenger: challenger?.devices ?? 0, control: control?.devices ?? 0 }): MetricResult => ({
    ...base,
    status: 'no_data',
    observed: null,
    standardError: null,
    sample,
    freshness: challenger && control ? [challenger.closedAt, control.closedAt].sort()[0]! : null,
  });
  if (!challenger || !control) return noData();
  const freshness = [challenger.closedAt, control.closedAt].sort()[0]!;
  if (check.metric === 'latency_p95_ms') {
    const a = challenger.summary.latency;
    const b = control.summary.latency;
    const sample = { challenger: a.devices, control: b.devices };
    if (a.devices < check.minSample || b.devices < check.minSample || a.p95Ms === null || b.p95Ms === null)
      return noData(sample);
    const observed = a.p95Ms - b.p95Ms;
    return {
      ...base,
      status: observed <= check.tolerance ? 'pass' : 'fail',
      observed,
      standardError: null,
      sample,
      freshness,
    };
  }
  const rate = RATES[check.metric];
  if (!rate) return noData({ challenger: 0, control: 0 }); // sketch and feedback metrics: not wired yet
  const a = rate(challenger.summary);
  const measured = rate(control.summary);
  // No loads in the control arm (LOAD_METRICS): a known rate of 0, no spread.
  const b = LOAD_METRICS.has(check.metric) && measured.n === 0 ? { value: 0, n: Infinity } : measured;
  const sample = { challenger: a.n, control: Number.isFinite(b.n) ? b.n : 0 };
  if (a.n < check.minSample || b.n < check.minSample) return noData(sample);
  const variance = (p: number, n: number, noise: number) =>
    Number.isFinite(n) ? (p * (1 - p)) / n + (noise / n) ** 2 : 0;
  const standardError = Math.sqrt(variance(a.value, a.n, challenger.noise) + variance(b.value, b.n, control.noise));
  const observed = a.better === 'higher' ? b.value - a.value : a.value - b.value;
  if (rule.kind === 'sequential') {
    const cs = sequentialStatus(observed, standardError ** 2, check.tolerance, rule.alpha);
    const releases = Math.max(challenger.releases ?? 1, control.releases ?? 1);
    return {
      ...base,
      status: cs.status,
      observed,
      standardError,
      sample,
      freshness,
      sequence: { lower: cs.lower, upper: cs.upper, alpha: rule.alpha, releases },
    };
  }
  const status =
    observed + 2 * standardError <= check.tolerance
      ? 'pass'
      : observed - 2 * standardError > check.tolerance
        ? 'fail'
        : 'inconclusive';
  return { ...base, status, observed, standardError, sample, freshness };
}

/**
 * Sample-ratio mismatch: the challenger and control ranges are equal, so their reporting devices
 * should be too (binomial, p = ½). A mismatch at p < 0.001 means assignment or reporting is broken
 * and nothing else can be trusted: the metric fails (non-critical: the rollout holds).
 */
/** |z| beyond which the split is a mismatch: the two-sided normal quantile at p = 0.001. */
export const SRM_Z = 3.29;

export function sampleRatio(challenger: number, control: number, freshness: string): MetricResult {
  const n = challenger + control;
  const z = n > 0 ? (challenger - control) / Math.sqrt(n) : 0;
  return {
    metric: 'sample_ratio',
    status: Math.abs(z) > SRM_Z ? 'fail' : 'pass',
    threshold: SRM_Z,
    observed: z,
    standardError: null,
    sample: { challenger, control },
    freshness,
    critical: false,
  };
}

/**
 * The Sybil floor (drift/networks.ts): how many distinct client networks stand behind the thinner
 * arm. Below the floor the decision is withheld — no promotion and no automatic rollback — since
 * a few networks could have invented the devices. Arms released before networks were counted
 * carry no counts and are not judged by it.
 */
export function networkFloor(challenger: Arm, control: Arm, floor: number): MetricResult | null {
  if (!challenger.networks || !control.networks) return null;
  const [a, b] = [challenger.networks.networks, control.networks.networks];
  return {
    metric: 'distinct_networks',
    status: Math.min(a, b) >= floor ? 'pass' : 'no_data',
    threshold: floor,
    observed: Math.min(a, b),
    standardError: null,
    sample: { challenger: a, control: b },
    freshness: [challenger.closedAt, control.closedAt].sort()[0]!,
    critical: false,
  };
}
