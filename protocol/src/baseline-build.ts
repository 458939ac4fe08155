/**
 * @module baseline-build
 * Computes a monitoring baseline from training (and validation) data, as `modelfleet baseline`
 * does: per numeric feature, B equiprobable bin edges and a probability-integral-transform
 * table; per categorical feature, the most frequent values as the vocabulary with training
 * frequencies (vocabulary…, OTHER, MISSING); for outputs, class counts and confidence deciles.
 */
import { Baseline } from './baseline.ts';
import { ProtocolError, parseOrThrow } from './errors.ts';

export interface FeatureSpec { name: string; kind: 'numeric' | 'categorical' }
export interface BaselineOptions { bins?: number; pitPoints?: number; maxVocabulary?: number }

/** Type-7 (linear interpolation) quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!);
}

/** Strictly increasing: ties (discrete data) collapse, so a feature may get fewer bins. */
const dedupe = (xs: number[]) => xs.filter((x, i) => i === 0 || x > xs[i - 1]!);

export function numericBaseline(name: string, values: number[], bins = 10, pitPoints = 64) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length < 2 * bins) throw new ProtocolError('bad_request', `feature ${name} has ${sorted.length} finite values; at least ${2 * bins} are needed for ${bins} bins`);
  const edges = dedupe(Array.from({ length: bins + 1 }, (_, k) => quantile(sorted, k / bins)));
  if (edges.length < 2) throw new ProtocolError('bad_request', `feature ${name} is constant (${sorted[0]}); it cannot be monitored as numeric`);
  // PIT table: the empirical CDF at pitPoints + 1 quantiles (right-continuous: F(x) = #{v ≤ x}/n).
  const n = sorted.length;
  const upper = (x: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo / n;
  };
  const xs = dedupe(Array.from({ length: pitPoints + 1 }, (_, j) => quantile(sorted, j / pitPoints)));
  const pit = xs.map((x) => [x, upper(x)] as [number, number]);
  return { name, kind: 'numeric' as const, edges, pit };
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
    name, kind: 'categorical' as const,
    vocabulary: kept.map(([v]) => v),
    frequencies: [...kept.map(([, c]) => c / total), other / total, missing / total],
  };
}

/** Class counts (argmax) and the deciles of the top-class confidence over validation predictions. */
export function outputBaseline(predictions: number[][]) {
  if (predictions.length < 10) throw new ProtocolError('bad_request', `outputs need at least 10 predictions, got ${predictions.length}`);
  const classes = predictions[0]!.length;
  const classCounts = new Array<number>(Math.max(classes, 2)).fill(0);
  const confidence: number[] = [];
  for (const p of predictions) {
    if (p.length !== classes || !p.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)) {
      throw new ProtocolError('bad_request', `every prediction must be ${classes} probabilities in [0, 1]`);
    }
    // One probability = a binary classifier's positive class.
    const probs = classes === 1 ? [1 - p[0]!, p[0]!] : p;
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
    classCounts[best]!++;
    confidence.push(probs[best]!);
  }
  confidence.sort((a, b) => a - b);
  return { classCounts, confidenceDeciles: Array.from({ length: 9 }, (_, k) => quantile(confidence, (k + 1) / 10)) };
}

export function buildBaseline(
  specs: FeatureSpec[],
  column: (name: string) => (number | string | null)[],
  predictions: number[][] | null,
  options: BaselineOptions = {},
): Baseline {
  const features = specs.map((s) => {
    const values = column(s.name);
    if (s.kind === 'numeric') {
      const numbers = values.map((v) => (v === null || v === '' ? NaN : Number(v)));
      return numericBaseline(s.name, numbers, options.bins, options.pitPoints);
    }
    return categoricalBaseline(s.name, values.map((v) => (v === null ? null : String(v))), options.maxVocabulary);
  });
  return parseOrThrow(Baseline, { features, ...(predictions ? { outputs: outputBaseline(predictions) } : {}) }, 'computed baseline');
}
