/**
 * @module drift/effects
 * Effect sizes of a released window, each with a 95 % interval, from the released (noised) bin
 * shares and the baseline's own shares:
 *  - location and scale (numeric): the shift of the fleet's distribution in normal-score units
 *    of the baseline (= baseline σ for a normal feature), signed (+ = values moved up), from a
 *    straight-line fit of Φ⁻¹(fleet CDF) on Φ⁻¹(baseline CDF) at the bin edges. It reads bins,
 *    whose L1 = 1 per device is never clipped, so unlike the Legendre components it has no cap;
 *    a fleet that left the baseline's range is `censored` (the estimate is then a lower bound).
 *  - PSI and Jensen–Shannon: shares floored at their own standard error (not at 1e-6, which
 *    made a noisy empty bin explode the log ratio), minus their mean under "no drift" at this
 *    fleet size, noise and baseline size.
 * Intervals come from a parametric bootstrap over the sampling and DP noise of both sides, with
 * a seed derived from the released numbers, so a window always shows the same interval.
 */
import { seededNormal } from '@modelfleet/protocol';
import { normalQuantile, quantileOf } from './math.ts';

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}
export interface ShiftEstimate extends Interval {
  censored: boolean;
}

export interface BinInput {
  /** Fleet shares per cell (noised; may be negative), summing to about 1. */
  observed: number[];
  /** Baseline shares per cell, summing to 1. */
  expected: number[];
  devices: number;
  /** DP noise σ on each cell's share (σ on the sum / devices). */
  noise: number;
  /** Baseline rows behind `expected` (Infinity: treated as exact). */
  rows: number;
}

const DRAWS = 200;

/** Per-cell standard errors of the fleet's and the baseline's shares. */
function standardErrors(b: BinInput) {
  const fleet = b.observed.map((p) =>
    Math.sqrt((Math.max(p, 0) * (1 - Math.min(Math.max(p, 0), 1))) / Math.max(b.devices, 1) + b.noise ** 2),
  );
  const base = b.expected.map((q) => (Number.isFinite(b.rows) ? Math.sqrt((q * (1 - q)) / b.rows) : 0));
  return { fleet, base };
}

function floored(p: number[], se: number[]): number[] {
  const f = p.map((x, i) => Math.max(x, se[i]!, 1e-9));
  const total = f.reduce((a, c) => a + c, 0);
  return f.map((x) => x / total);
}

function divergences(p: number[], q: number[]) {
  let psi = 0;
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    psi += (p[i]! - q[i]!) * Math.log(p[i]! / q[i]!);
    js += 0.5 * (p[i]! * Math.log(p[i]! / m) + q[i]! * Math.log(q[i]! / m));
  }
  return { psi, js };
}

function seedOf(xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ Math.round(x * 1e6), 16777619);
  return h >>> 0;
}

const perturb = (xs: number[], se: number[], normal: () => number) => xs.map((x, i) => x + se[i]! * normal());

/** Bias-corrected PSI and JS with bootstrap intervals. */
export function divergenceEffects(b: BinInput): { psi: Interval; js: Interval } {
  const se = standardErrors(b);
  const floor = se.fleet.map((s, i) => Math.max(s, se.base[i]!));
  const q = floored(b.expected, floor);
  const at = (p: number[], base: number[]) => divergences(floored(p, floor), floored(base, floor));
  const normal = seededNormal(seedOf([...b.observed, b.devices]));
  // What PSI/JS read under "no drift": the baseline seen through this fleet's sampling and noise.
  const nulls = Array.from({ length: DRAWS }, () =>
    at(perturb(b.expected, se.fleet, normal), perturb(b.expected, se.base, normal)),
  );
  const bias = { psi: mean(nulls.map((d) => d.psi)), js: mean(nulls.map((d) => d.js)) };
  const draws = Array.from({ length: DRAWS }, () =>
    at(perturb(b.observed, se.fleet, normal), perturb(b.expected, se.base, normal)),
  );
  const point = divergences(floored(b.observed, floor), q);
  const interval = (k: 'psi' | 'js'): Interval => ({
    estimate: Math.max(point[k] - bias[k], 0),
    low: Math.max(
      quantileOf(
        draws.map((d) => d[k]),
        0.025,
      ) - bias[k],
      0,
    ),
    high: Math.max(
      quantileOf(
        draws.map((d) => d[k]),
        0.975,
      ) - bias[k],
      0,
    ),
  });
  return { psi: interval('psi'), js: interval('js') };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Location and scale from cells ordered low to high (underflow, interior bins, overflow). Cumulative
 * shares are clamped to [c, 1 − c], c = 1/(2·devices): beyond that the fleet has left the range
 * the baseline can describe, and the shift is reported as censored.
 */
export function shiftEffects(b: BinInput): { location: ShiftEstimate; scale: Interval | null } | null {
  const cells = b.observed.length;
  const c = 1 / (2 * Math.max(b.devices, 1));
  const fit = (p: number[], q: number[], unitScale = false) => {
    const z0: number[] = [];
    const z1: number[] = [];
    let censored = false;
    let cp = 0;
    let cq = 0;
    const totalP = p.reduce((a, x) => a + Math.max(x, 0), 0) || 1;
    for (let i = 0; i < cells - 1; i++) {
      cp += Math.max(p[i]!, 0) / totalP;
      cq += q[i]!;
      if (cq <= 1e-9 || cq >= 1 - 1e-9) continue; // a baseline edge with nothing on one side says nothing
      if (cp < c || cp > 1 - c) censored = true;
      z0.push(normalQuantile(cq));
      z1.push(normalQuantile(Math.min(Math.max(cp, c), 1 - c)));
    }
    if (z0.length === 0) return null;
    const m0 = mean(z0);
    const m1 = mean(z1);
    const sxx = z0.reduce((s, z) => s + (z - m0) ** 2, 0);
    const slope = sxx > 1e-9 ? z0.reduce((s, z, i) => s + (z - m0) * (z1[i]! - m1), 0) / sxx : NaN;
    // z1 = (z0 − μ)/s: μ = m0 − s·m1. A flat or inverted fit (everything piled in one tail) keeps s = 1,
    // and so does a censored one: clamped points flatten the slope, and 1/slope would blow μ up (a
    // summer that left the winter range read +49σ) — with s = 1, μ is the bound the data can support.
    const scale = slope > 0.05 && !censored && !unitScale ? 1 / slope : null;
    return { location: m0 - (scale ?? 1) * m1, scale, censored };
  };
  const point = fit(b.observed, b.expected);
  if (!point) return null;
  const se = standardErrors(b);
  const normal = seededNormal(seedOf([...b.observed, b.devices, 1]));
  // A censored point estimate is a bound: its interval keeps s = 1 in every draw too.
  const draws = Array.from({ length: DRAWS }, () =>
    fit(perturb(b.observed, se.fleet, normal), normalise(perturb(b.expected, se.base, normal)), point.censored),
  );
  const loc = draws.map((d) => d?.location ?? point.location);
  const sc = draws.map((d) => d?.scale).filter((s): s is number => typeof s === 'number');
  return {
    location: {
      estimate: point.location,
      low: quantileOf(loc, 0.025),
      high: quantileOf(loc, 0.975),
      censored: point.censored,
    },
    scale:
      point.scale !== null && sc.length >= DRAWS / 2
        ? { estimate: point.scale, low: quantileOf(sc, 0.025), high: quantileOf(sc, 0.975) }
        : null,
  };
}

/** Shares from noised sums: negatives clipped to 0, then divided by the total. */
export function normalise(xs: number[]): number[] {
  const c = xs.map((x) => Math.max(x, 0));
  const total = c.reduce((a, b) => a + b, 0) || 1;
  return c.map((x) => x / total);
}
