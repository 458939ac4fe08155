/**
 * @module rollouts/deciding
 * When a rate metric of a rollout step decides, under either rule judge.ts applies (pure; power.ts
 * builds its report on it, the simulations and the docs/rollouts.md table import it).
 *
 * A step's arms hold nA and nB devices; the challenger − control difference of a device-level rate
 * p has variance V = p(1 − p)(1/nA + 1/nB) + K σ² (1/nA² + 1/nB²) — binomial spread plus the
 * noise of the K releases each arm sums (σ per release, in devices), judge.ts's variance. A
 * harmless challenger (true difference 0) passes with probability `power` once its margin fits
 * the tolerance:
 *   fixed       2·√V + z·√V ≤ tol — one look (a day's window; the rule before issue 16);
 *   sequential  w(V) + z·√V ≤ tol — w the always-valid half-width (sequential.ts) at α split over
 *               the plan's rate metrics; increments are released at f, 4f, 16f … devices (f the
 *               release floor or minSample, sequential.ts incrementNeed), so a step can decide
 *               only at those sample sizes, with K = 1, 2, 3 … releases behind them.
 * By symmetry a challenger 2·margin above the tolerance's near side is rolled back with the same
 * probability, so the margin is also the minimum detectable effect around the tolerance.
 */
import type { MetricCheck } from '@modelfleet/protocol';
import { normalQuantile } from '../drift/math.ts';
import { INCREMENT_GROWTH, SEQUENTIAL_ALPHA, alphaPerMetric, halfWidth, mixtureVariance } from './sequential.ts';

export interface PowerRule {
  kind: 'fixed' | 'sequential';
  /** fixed: k in observed ± k·SE. */
  seMultiplier: number;
  /** sequential: the family α over the plan's rate metrics (Bonferroni-split per metric). */
  alpha: number;
  /** Power a harmless challenger must pass with, and its normal quantile. */
  power: number;
  zPower: number;
  /** Days of devices one decision may rest on (fixed: one day's window). */
  evidenceDays: number;
  /** Evidence accumulates over the whole step: its bake counts as evidence days too. */
  accumulates: boolean;
  /** Devices per arm before any release (DRIFT_MIN_DEVICES). */
  releaseFloor: number;
}

/** Today's windows and the rule before issue 16: observed ± 2 SE on one release, 80 % power. */
export const FIXED_RULE: PowerRule = {
  kind: 'fixed',
  seMultiplier: 2,
  alpha: 0.05,
  power: 0.8,
  zPower: 0.8416,
  evidenceDays: 1,
  accumulates: false,
  releaseFloor: 1000,
};
/** A step's rule since issue 16: always-valid increments; a harmless challenger passes all its metrics with 95 % power (the target). */
export const SEQUENTIAL_RULE: PowerRule = {
  kind: 'sequential',
  seMultiplier: 0,
  alpha: SEQUENTIAL_ALPHA,
  power: 0.95,
  zPower: 1.6449,
  evidenceDays: 1,
  accumulates: true,
  releaseFloor: 1000,
};

type Metric = MetricCheck['metric'];

/**
 * Device-level rates the binomial spread is computed at when the fleet has no released health
 * window to read them from (plan-check.ts ratesOf reads the champion's latest).
 */
export const TYPICAL_RATES: Partial<Record<Metric, number>> = {
  load_failure_rate: 0.01,
  verify_failure_rate: 0.001,
  inference_error_rate: 0.01,
  non_finite_rate: 0.001,
  label_accuracy: 0.9,
};
/** Metrics judged by a confidence interval; the rest (latency, output verdicts) need only their sample. */
export const isSeMetric = (m: Metric) => TYPICAL_RATES[m] !== undefined;

export function differenceVariance(rate: number, nA: number, nB: number, sigma: number, releases = 1): number {
  if (nA <= 0 || nB <= 0) return Infinity;
  return rate * (1 - rate) * (1 / nA + 1 / nB) + releases * sigma ** 2 * (1 / nA ** 2 + 1 / nB ** 2);
}

/** SE of the difference of two device shares, each with noise σ on its count (judge.ts's variance). */
export const differenceSE = (rate: number, nA: number, nB: number, sigma: number): number =>
  Math.sqrt(differenceVariance(rate, nA, nB, sigma));

/**
 * The normal quantile a metric's margin adds: the fixed rule's power is per metric (as before issue
 * 16); the sequential rule's is for all `rateMetrics` together (Bonferroni), since a promotion
 * needs every metric to pass — four metrics at 95 % each would promote a harmless challenger only
 * ~81 % of the time.
 */
export const zFor = (rule: PowerRule, rateMetrics: number): number =>
  rule.kind === 'fixed' ? rule.zPower : normalQuantile(1 - (1 - rule.power) / Math.max(1, rateMetrics));

/** What a harmless challenger's observed difference must stay below the tolerance by (module comment). */
export function decisionMargin(variance: number, tolerance: number, rule: PowerRule, rateMetrics: number): number {
  if (!Number.isFinite(variance)) return Infinity;
  const se = Math.sqrt(variance);
  if (rule.kind === 'fixed') return (rule.seMultiplier + rule.zPower) * se;
  return (
    halfWidth(variance, mixtureVariance(tolerance), alphaPerMetric(rateMetrics, rule.alpha)) +
    zFor(rule, rateMetrics) * se
  );
}

export interface Context {
  rate: number;
  rateMetrics: number;
}

/** The release sizes (thinner arm) a sequential step looks at: f, 4f, 16f … (at most 12 looks). */
export const looksAt = (floor: number): number[] => Array.from({ length: 12 }, (_, k) => floor * INCREMENT_GROWTH ** k);

/**
 * Days until both arms (dA, dB devices a day) decide, Infinity when never. Fixed: the closed form
 * of (k + z)·SE(t·dA, t·dB) = tol. Sequential: the first look of the increment schedule whose
 * margin fits (K releases behind it).
 */
export function daysToDecide(
  check: MetricCheck,
  dA: number,
  dB: number,
  sigma: number,
  rule: PowerRule,
  ctx: Context,
): number {
  if (!(dA > 0 && dB > 0)) return Infinity;
  const thinner = Math.min(dA, dB);
  const floor = Math.max(check.minSample, rule.releaseFloor);
  if (!isSeMetric(check.metric)) return floor / thinner;
  if (!(check.tolerance > 0)) return Infinity; // every measurement has noise: a zero tolerance can never pass
  if (rule.kind === 'sequential') {
    const looks = looksAt(floor);
    const k = looks.findIndex(
      (n, i) =>
        decisionMargin(varianceAtLook(ctx.rate, n, dA, dB, sigma, i + 1), check.tolerance, rule, ctx.rateMetrics) <=
        check.tolerance,
    );
    return k < 0 ? Infinity : looks[k]! / thinner;
  }
  const a = (check.tolerance / (rule.seMultiplier + rule.zPower)) ** 2;
  const b = ctx.rate * (1 - ctx.rate) * (1 / dA + 1 / dB);
  const c = sigma ** 2 * (1 / dA ** 2 + 1 / dB ** 2);
  return Math.max(floor / thinner, (b + Math.sqrt(b * b + 4 * a * c)) / (2 * a));
}

const varianceAtLook = (rate: number, n: number, dA: number, dB: number, sigma: number, releases: number) =>
  differenceVariance(rate, (n * dA) / Math.min(dA, dB), (n * dB) / Math.min(dA, dB), sigma, releases);

/**
 * The smallest first release (devices in the thinner arm) at which the metric decides on that one
 * release: what a derived plan's minSample is raised to, so its step can decide at its first look.
 * Bisection on n (the margin falls as n grows); Infinity when not below 10⁹.
 */
export function singleReleaseSample(
  check: MetricCheck,
  ratio: number,
  sigma: number,
  rule: PowerRule,
  ctx: Context,
): number {
  if (!isSeMetric(check.metric)) return Math.max(check.minSample, rule.releaseFloor);
  if (!(check.tolerance > 0)) return Infinity;
  const fits = (n: number) =>
    decisionMargin(differenceVariance(ctx.rate, n, n * ratio, sigma, 1), check.tolerance, rule, ctx.rateMetrics) <=
    check.tolerance;
  let hi = 1;
  while (!fits(hi)) if ((hi *= 2) > 1e9) return Infinity;
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
