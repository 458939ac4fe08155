/**
 * @module rollouts/step-budget
 * Where a rollout step's privacy budget goes (issue 16). A step releases two kinds of telemetry
 * from the devices in its ranges: health records (the rate and latency metrics) and drift sketches
 * (prediction drift, estimated accuracy). Before, health got a fixed 10 % of the step's ε and
 * sketches 90 % — even when the plan judged no output metric, so nine tenths of the budget bought
 * nothing and the health metrics drowned in noise (σ ≈ 20 devices an increment at ε = 2).
 *
 * The rule: what a step's releases spend (the day's ε, DRIFT_EPSILON_PER_DAY; the day's cap on all
 * step releases is ROLLOUT_STEP_EPSILON_PER_DAY) is split equally between the
 * channels the plan reads, and a channel it does not read gets nothing and is never released.
 * Within the health release only the features the plan's metrics read are released (load for
 * load/verify failures, predict for inference errors and non-finite outputs, feedback for label
 * accuracy, latency for p95); the others are withheld, which lowers the release's sensitivity
 * (one unit of Δ² per released feature) instead of spreading the budget over features nobody
 * reads. The default plan (four rate metrics and latency, no output metric) thus releases load,
 * predict and latency on the whole step budget: σ ≈ 4.4 devices at ε = 2, √20 ≈ 4.5× less than before
 * (σ² ∝ Δ²/ρ: 4 categorical features on a tenth of ρ before, 2 on all of it now).
 *
 * Every release is still ledgered, with its channel (privacy_ledger.channel), and the total a
 * device can lose to a step per day is unchanged: the channels are shares of the same ε.
 */
import { type MetricCheck, type SketchLayout, healthLayout } from '@modelfleet/protocol';
import { DELTA, HEALTH_SPLIT, releaseNoiseForRho, rhoFor } from '../drift/privacy.ts';

type Metric = MetricCheck['metric'];

/** The health feature each health metric reads (protocol HEALTH_BASELINE names). */
export const HEALTH_FEATURE: Partial<Record<Metric, string>> = {
  load_failure_rate: 'load',
  verify_failure_rate: 'load',
  inference_error_rate: 'predict',
  non_finite_rate: 'predict',
  label_accuracy: 'feedback',
  latency_p95_ms: 'latency_ms',
};
export const OUTPUT_METRICS: ReadonlySet<Metric> = new Set<Metric>(['prediction_drift', 'estimated_accuracy']);

export interface StepSplit {
  /** Shares of the step's ρ (sum to 1 when the plan judges anything). */
  health: number;
  sketches: number;
  /** Health features released; the rest of the health layout is withheld. */
  healthFeatures: string[];
}

export function stepSplit(analysis: readonly Pick<MetricCheck, 'metric'>[]): StepSplit {
  const healthFeatures = [
    ...new Set(analysis.map((c) => HEALTH_FEATURE[c.metric]).filter((f): f is string => f !== undefined)),
  ];
  const channels = (healthFeatures.length > 0 ? 1 : 0) + (analysis.some((c) => OUTPUT_METRICS.has(c.metric)) ? 1 : 0);
  const share = channels > 0 ? 1 / channels : 0;
  return {
    health: healthFeatures.length > 0 ? share : 0,
    sketches: analysis.some((c) => OUTPUT_METRICS.has(c.metric)) ? share : 0,
    healthFeatures,
  };
}

/** The noise of a step's health release spending `rho` (the step's ρ) for a plan judging `analysis`: the health channel's share, on the features it reads. Null when it reads none. */
export function planHealthNoise(layout: SketchLayout, rho: number, analysis: readonly Pick<MetricCheck, 'metric'>[]) {
  const split = stepSplit(analysis);
  if (split.health === 0) return null;
  const withheld = layout.features.flatMap((f, i) => (split.healthFeatures.includes(f.name) ? [] : [i]));
  return releaseNoiseForRho(layout, rho * split.health, HEALTH_SPLIT, withheld);
}

/**
 * The noise σ (devices, on each arm's counts) of a step's health release for a plan judging
 * `analysis` at `epsilonPerDay` for the step: what the power analysis plans with. ∞ when the plan
 * reads no health metric (nothing is released).
 */
export async function stepPrivacy(epsilonPerDay: number, analysis: readonly Pick<MetricCheck, 'metric'>[]) {
  const noise = planHealthNoise(await healthLayout(), rhoFor(epsilonPerDay, DELTA), analysis);
  return {
    epsilonPerDay,
    healthShare: stepSplit(analysis).health,
    noiseSigma: noise?.categoricalBins ?? Infinity,
    delta: DELTA,
  };
}
