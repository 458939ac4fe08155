/**
 * @module baseline-build
 * Computes a monitoring baseline from training (and validation) data, as `modelfleet baseline`
 * does: per numeric feature, bin edges at the training quantiles with each bin's training share,
 * and the empirical CDF table (quantile knots plus every atom — a value carrying a visible share
 * of the rows — with the CDF below and at it); per categorical feature, the most frequent values
 * as the vocabulary with training frequencies (vocabulary…, OTHER, MISSING); for outputs, class
 * counts, the top-class confidence as a numeric baseline and, given labels, its reliability table.
 *
 * Values are rounded to float32 first: devices see them as TF.js float32 tensors, and a grid
 * value such as 0.1 is another number in float32 — it would miss its atom and its bin.
 */
import { Baseline, type NumericFeatureBaseline, type PitPoint } from './baseline.ts';
import { ProtocolError, parseOrThrow } from './errors.ts';
import { numericBin } from './sketch.ts';

export interface FeatureSpec {
  name: string;
  kind: 'numeric' | 'categorical';
}
export interface BaselineOptions {
  bins?: number;
  pitPoints?: number;
  maxVocabulary?: number;
}

/** Type-7 (linear interpolation) quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!);
}

/** Strictly increasing: ties (discrete data) collapse, so a feature may get fewer bins. */
const dedupe = (xs: number[]) => xs.filter((x, i) => i === 0 || x > xs[i - 1]!);

/** At most this many CDF points: the table travels in every manifest. */
export const MAX_PIT_POINTS = 1024;

/** Index of the first sorted value > x (or ≥ x with `strict` false). */
function countBelow(sorted: number[], x: number, orEqual: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (orEqual ? sorted[mid]! <= x : sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The CDF table: knots at pitPoints + 1 quantiles (sample values, so F is exact there) and every
 * value holding at least 2 rows and 1/(4·pitPoints) of them; more atoms than fit keep the
 * heaviest. Between points devices interpolate, so an atom left out costs at most its own share.
 */
function cdfTable(sorted: number[], pitPoints: number): PitPoint[] {
  const n = sorted.length;
  const runs: [number, number][] = [];
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && sorted[j] === sorted[i]) j++;
    if (j - i >= 2 && (j - i) / n >= 1 / (4 * pitPoints)) runs.push([sorted[i]!, j - i]);
    i = j;
  }
  const knots = Array.from({ length: pitPoints + 1 }, (_, j) => sorted[Math.round((j / pitPoints) * (n - 1))]!);
  const room = Math.max(MAX_PIT_POINTS - knots.length, 0);
  const atoms = runs.length > room ? [...runs].sort((a, b) => b[1] - a[1]).slice(0, room) : runs;
  const xs = dedupe([...knots, ...atoms.map(([x]) => x)].sort((a, b) => a - b));
  return xs.map((x) => {
    const lo = countBelow(sorted, x, false);
    const hi = countBelow(sorted, x, true);
    // A value held by one row is a sample of a continuous part, not an atom: the CDF passes through
    // the middle of its step, so the table interpolates continuously (a step there would make u discrete).
    return hi - lo === 1 ? [x, (lo + 0.5) / n, (lo + 0.5) / n] : [x, lo / n, hi / n];
  });
}

export function numericBaseline(name: string, values: number[], bins = 10, pitPoints = 128): NumericFeatureBaseline {
  const sorted = values
    .filter(Number.isFinite)
    .map(Math.fround)
    .sort((a, b) => a - b);
  if (sorted.length === 0)
    throw new ProtocolError('bad_request', `feature ${name} has no finite values; it cannot be monitored`);
  if (sorted.length < 2 * bins)
    throw new ProtocolError(
      'bad_request',
      `feature ${name} has ${sorted.length} finite values; at least ${2 * bins} are needed for ${bins} bins`,
    );
  const edges = dedupe(Array.from({ length: bins + 1 }, (_, k) => quantile(sorted, k / bins)));
  if (edges.length < 2) {
    throw new ProtocolError(
      'bad_request',
      `feature ${name} is constant (${sorted[0]} in every row): it has no distribution to monitor — leave it out of the schema`,
    );
  }
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const x of sorted) counts[numericBin(x, edges) - 1]!++; // every training value is inside [edges[0], edges[B]]
  const n = sorted.length;
  return {
    name,
    kind: 'numeric',
    edges,
    shares: counts.map((c) => c / n),
    pit: cdfTable(sorted, pitPoints),
    rows: n,
    missing: (values.length - n) / values.length,
  };
}

export function categoricalBaseline(name: string, values: (string | null)[], maxVocabulary = 64) {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const v of values) {
    if (v === null || v === '') missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  if (counts.size === 0) throw new ProtocolError('bad_request', `feature ${name} has no values`);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept = ranked.slice(0, maxVocabulary);
  const other = ranked.slice(maxVocabulary).reduce((s, [, c]) => s + c, 0);
  const total = values.length;
  return {
    name,
    kind: 'categorical' as const,
    vocabulary: kept.map(([v]) => v),
    frequencies: [...kept.map(([, c]) => c / total), other / total, missing / total],
    rows: total,
  };
}

/** Top class and its probability; one probability is a binary classifier's positive class. */
function top(p: number[]): [number, number] {
  const probs = p.length === 1 ? [1 - p[0]!, p[0]!] : p;
  let best = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
  return [best, Math.fround(probs[best]!)];
}

/**
 * Class counts (argmax) and the top-class confidence over validation predictions — its deciles
 * (older SDKs read those) and a numeric baseline. With `labels` (the true class per prediction),
 * the reliability table: the share correct within each confidence bin.
 */
export function outputBaseline(predictions: number[][], labels?: number[] | null) {
  if (predictions.length < 20)
    throw new ProtocolError('bad_request', `outputs need at least 20 predictions, got ${predictions.length}`);
  if (labels && labels.length !== predictions.length)
    throw new ProtocolError('bad_request', `labels: ${labels.length} for ${predictions.length} predictions`);
  const classes = predictions[0]!.length;
  const classCounts = new Array<number>(Math.max(classes, 2)).fill(0);
  const tops: [number, number][] = [];
  for (const p of predictions) {
    if (p.length !== classes || !p.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)) {
      throw new ProtocolError('bad_request', `every prediction must be ${classes} probabilities in [0, 1]`);
    }
    const t = top(p);
    classCounts[t[0]]!++;
    tops.push(t);
  }
  const sorted = tops.map(([, c]) => c).sort((a, b) => a - b);
  const confidenceDeciles = Array.from({ length: 9 }, (_, k) => quantile(sorted, (k + 1) / 10));
  const confidence =
    sorted[0] === sorted[sorted.length - 1] ? undefined : numericBaseline('@output.confidence', sorted, 10);
  let reliability;
  if (labels && confidence) {
    const B = confidence.edges.length - 1;
    const counts = new Array<number>(B).fill(0);
    const correct = new Array<number>(B).fill(0);
    tops.forEach(([k, c], i) => {
      const b = numericBin(c, confidence.edges) - 1;
      counts[b]!++;
      if (k === labels[i]) correct[b]!++;
    });
    const validationAccuracy = correct.reduce((a, b) => a + b, 0) / tops.length;
    // An empty bin (no validation prediction fell there) borrows the overall accuracy.
    reliability = {
      accuracy: counts.map((n, b) => (n > 0 ? correct[b]! / n : validationAccuracy)),
      counts,
      validationAccuracy,
    };
  }
  return {
    classCounts,
    confidenceDeciles,
    ...(confidence ? { confidence } : {}),
    ...(reliability ? { reliability } : {}),
  };
}

export function buildBaseline(
  specs: FeatureSpec[],
  column: (name: string) => (number | string | null)[],
  predictions: number[][] | null,
  options: BaselineOptions & { labels?: number[] | null } = {},
): Baseline {
  const features = specs.map((s) => {
    const values = column(s.name);
    if (s.kind === 'numeric') {
      const numbers = values.map((v) => (v === null || v === '' ? NaN : Number(v)));
      return numericBaseline(s.name, numbers, options.bins, options.pitPoints);
    }
    return categoricalBaseline(
      s.name,
      values.map((v) => (v === null ? null : String(v))),
      options.maxVocabulary,
    );
  });
  return parseOrThrow(
    Baseline,
    { features, ...(predictions ? { outputs: outputBaseline(predictions, options.labels) } : {}) },
    'computed baseline',
  );
}

/** Φ⁻¹(1 − α) by bisection on the upper tail: for advice printed to users, 1e-7 is plenty. */
function zOf(alpha: number): number {
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (upperTail(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(Z > z) by the Abramowitz–Stegun 7.1.26 erfc approximation (|error| < 1.5e-7: enough for advice). */
function upperTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return 0.5 * poly * Math.exp(-x * x);
}

/**
 * The smallest location shift (in baseline σ, for a normal feature) that a baseline of `rows`
 * training rows lets the smooth test find with 80 % power at family α across `features`, however
 * many devices report: the baseline's own sampling error, Var(mean P₁) = 1/(3n), sets the floor.
 * E[P₁(F₀(X + δσ))] = 2Φ(δ/√2) − 1 ≈ δ/√π, so δ ≈ √π·(z₁₋α/F + z₀.₈)/√(3n).
 */
export function baselineDetectableShift(rows: number, features: number, familyAlpha = 0.01): number {
  return (Math.sqrt(Math.PI) * (zOf(familyAlpha / Math.max(features, 1)) + zOf(0.2))) / Math.sqrt(3 * rows);
}

/** Rows a baseline needs for `baselineDetectableShift` to reach `shift`. */
export function baselineRowsFor(shift: number, features: number, familyAlpha = 0.01): number {
  return Math.ceil((Math.PI * (zOf(familyAlpha / Math.max(features, 1)) + zOf(0.2)) ** 2) / (3 * shift * shift));
}
