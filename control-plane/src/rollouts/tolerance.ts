/**
 * @module rollouts/tolerance
 * Tolerances people can read (two significant digits), and the tightest such tolerance a harmless
 * challenger passes at a given variance: what the power report suggests (power.ts) and what a plan
 * derived from the fleet gets (plan-defaults.ts).
 */
import type { MetricCheck } from '@modelfleet/protocol';
import { type Context, type PowerRule, decisionMargin } from './deciding.ts';

/** Ceiling to two significant digits (tolerances and percentages people can read). */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return x;
  const scale = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Number((Math.ceil(x / scale - 1e-9) * scale).toPrecision(2));
}

/**
 * The tightest tolerance (two significant digits, never tighter than the check's) that a harmless
 * challenger passes at variance `variance`. The sequential margin depends on the tolerance itself
 * (the mixture's τ): it is large for τ far below the SE and grows slowly above it, so the search
 * climbs from the SE up the grid of two-digit values rather than iterating from the top.
 */
export function fitTolerance(check: MetricCheck, variance: number, rule: PowerRule, ctx: Context): number {
  const fits = (t: number) => decisionMargin(variance, t, rule, ctx.rateMetrics) <= t;
  if (fits(check.tolerance)) return check.tolerance;
  let tol = niceCeil(Math.max(check.tolerance, Math.sqrt(variance)));
  for (let i = 0; i < 2000 && !fits(tol); i++) tol = niceCeil(tol * 1.01);
  return tol;
}
