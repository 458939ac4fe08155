/**
 * @module sketch
 * Privacy-aggregated feature sketches (docs/architecture.md §7): what one device sends per model version and
 * window, and how the control plane adds them up. Everything is integer fixed point so that
 * merging is exact — associative, commutative and bit-for-bit reproducible in any order:
 *  - a present feature's bin fractions are integers summing to exactly SKETCH_SCALE (L1 = 1,
 *    so a heavy user weighs as one device); an absent feature (< MIN_SAMPLES values) is all 0;
 *  - numeric features add K = 4 Legendre components of u = F0(x) (the PIT), as means in units
 *    of 1/COMPONENT_SCALE, for the device-level smooth test. Where F0 jumps (a value that many
 *    training rows share) u is drawn uniformly inside the jump with the platform CSPRNG — the
 *    randomized PIT — so u is uniform under the baseline for discrete and rounded data too.
 */
import type { Baseline, PitPoint } from './baseline.ts';
import { sha256Hex, utf8 } from './encoding.ts';
import { parseInputStat } from './input-stats.ts';

export const SKETCH_SCALE = 4096;
export const COMPONENT_SCALE = 16384;
export const SKETCH_K = 4;
export const MAX_SAMPLES = 64;
export const MIN_SAMPLES = 10;

export interface LayoutFeature {
  name: string;
  kind: 'numeric' | 'categorical';
  /** numeric: underflow, B interior bins, overflow, missing; categorical: vocabulary, OTHER, MISSING */
  bins: number;
  components: number;
  /**
   * The baseline's expected fractions: categorical (with training frequencies) over vocabulary,
   * OTHER, MISSING; numeric over the B interior bins (the training shares; equal without them).
   */
  expected?: number[];
  /** Training rows behind the baseline: the tests add its sampling error (absent: treated as exact). */
  rows?: number;
  /** numeric: the training share of rows with no finite value (absent: not tested). */
  missing?: number;
  /** @output.confidence with a reliability table: validation accuracy per interior bin, and overall. */
  accuracy?: number[];
  validationAccuracy?: number;
  /** numeric: the bin edges (for effect sizes and charts on the control plane). */
  edges?: number[];
  /** categorical: the vocabulary (bin labels for charts; the digest already covers it). */
  vocabulary?: string[];
}

export interface SketchLayout {
  /** Digest of what the layout was derived from; every upload carries it. */
  schemaDigest: string;
  features: LayoutFeature[];
}

/** Names of the pseudo-features that monitor a model's outputs (prediction drift). */
export const OUTPUT_CLASS = '@output.class';
export const OUTPUT_CONFIDENCE = '@output.confidence';

/** A monitored feature: an input column, a declared input statistic, or a view of the outputs (top class, its confidence). */
export type MonitoredFeature =
  | (Extract<Baseline['features'][number], { kind: 'numeric' }> & {
      source: 'input' | 'input-stat' | 'output-confidence';
    })
  | (Extract<Baseline['features'][number], { kind: 'categorical' }> & { source: 'input' | 'output-class' });

const increasing = (xs: number[]) => xs.filter((x, i) => i === 0 || x > xs[i - 1]!);

/**
 * The input features, then — when the baseline has outputs — the predicted class (categorical,
 * training frequencies = validation class counts) and the top-class confidence (numeric, bins
 * at the validation deciles, so equiprobable by construction).
 */
export function monitoredFeatures(baseline: Baseline): MonitoredFeature[] {
  // 'input-stat': a statistic the device computes per example (@input.<input>.<stat>, input-stats.ts), not a column.
  const out: MonitoredFeature[] = baseline.features.map(
    (f) => ({ ...f, source: parseInputStat(f.name) ? 'input-stat' : 'input' }) as MonitoredFeature,
  );
  const o = baseline.outputs;
  if (o?.classCounts) {
    out.push({
      name: OUTPUT_CLASS,
      kind: 'categorical',
      source: 'output-class',
      vocabulary: o.classCounts.map((_, i) => String(i)),
      frequencies: [...o.classCounts, 0, 0],
      rows: o.classCounts.reduce((a, b) => a + b, 0),
    });
  }
  if (o?.confidence) {
    out.push({ ...o.confidence, name: OUTPUT_CONFIDENCE, source: 'output-confidence' });
  } else if (o?.confidenceDeciles) {
    const classes = o.classCounts?.length ?? 2;
    const edges = increasing([Math.min(1 / classes, o.confidenceDeciles[0]!), ...o.confidenceDeciles, 1]);
    if (edges.length >= 2) out.push({ name: OUTPUT_CONFIDENCE, kind: 'numeric', source: 'output-confidence', edges });
  }
  return out;
}

/** The layout every device and the control plane derive from the signed baseline. */
export async function sketchLayout(baseline: Baseline): Promise<SketchLayout> {
  const monitored = monitoredFeatures(baseline);
  const reliability = baseline.outputs?.confidence ? baseline.outputs.reliability : undefined;
  const features: LayoutFeature[] = monitored.map((f) =>
    f.kind === 'numeric'
      ? {
          name: f.name,
          kind: 'numeric',
          bins: f.edges.length - 1 + 3,
          components: SKETCH_K,
          edges: f.edges,
          ...(f.shares ? { expected: normalise(f.shares) } : {}),
          ...rowsOf(f),
          ...(f.missing !== undefined ? { missing: f.missing } : {}),
          ...(f.source === 'output-confidence' && reliability
            ? { accuracy: reliability.accuracy, validationAccuracy: reliability.validationAccuracy }
            : {}),
        }
      : {
          name: f.name,
          kind: 'categorical',
          bins: f.vocabulary.length + 2,
          components: 0,
          vocabulary: f.vocabulary,
          ...(f.frequencies ? { expected: normalise(f.frequencies) } : {}),
          ...rowsOf(f),
        },
  );
  // The digest covers what determines a value's bin: names, kinds, edges, PIT tables, vocabularies.
  const described = monitored.map((f) =>
    f.kind === 'numeric' ? ['n', f.name, f.edges, f.pit ?? null] : ['c', f.name, f.vocabulary],
  );
  return {
    schemaDigest: await sha256Hex(
      utf8(JSON.stringify(['modelfleet/sketch/v1', SKETCH_SCALE, COMPONENT_SCALE, described])),
    ),
    features,
  };
}

const rowsOf = (f: { rows?: number | undefined }) => (f.rows ? { rows: f.rows } : {});

function normalise(xs: number[]): number[] {
  const total = xs.reduce((a, b) => a + b, 0);
  return xs.map((x) => x / total);
}

/**
 * Largest-remainder rounding of counts to integers summing to exactly `scale` (ties: lower index
 * first), so L1 normalisation is exact rather than approximately 1.
 */
export function quantizeFractions(counts: number[], scale = SKETCH_SCALE): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return counts.map(() => 0);
  const exact = counts.map((c) => (c * scale) / total);
  const out = exact.map(Math.floor);
  let short = scale - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (short-- <= 0) break;
    out[i]!++;
  }
  return out;
}

/** A uniform draw in [0, 1) from the platform CSPRNG (WebCrypto: browsers, workers, Node ≥ 19). */
export function cryptoUniform(): () => number {
  const pool = new Uint32Array(256);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      globalThis.crypto.getRandomValues(pool);
      next = 0;
    }
    return pool[next++]! / 2 ** 32;
  };
}

/**
 * u = F0(x), randomized within jumps: at a table point x_j, u = F(x_j−) + v·(F(x_j) − F(x_j−));
 * between points, linear from F(x_j) to F(x_{j+1}−); below the first point v·F(x_0−), above the
 * last F(x_last) + v·(1 − F(x_last)). v is uniform in [0, 1) and only drawn inside a jump.
 * Without a table, the equal-share bin edges serve (older baselines).
 */
export function pit(x: number, edges: number[], table?: PitPoint[], uniform: () => number = Math.random): number {
  return pitOn(table ?? edgePoints(edges), x, uniform);
}

const edgePoints = (edges: number[]): PitPoint[] => edges.map((e, i) => [e, i / (edges.length - 1)]);

const below = (p: PitPoint) => p[1];
const atOrBelow = (p: PitPoint) => (p.length === 3 ? p[2] : p[1]);

function pitOn(points: PitPoint[], x: number, uniform: () => number): number {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const within = (lo: number, hi: number) => (hi > lo ? lo + uniform() * (hi - lo) : lo);
  if (x < first[0]) return within(0, below(first));
  if (x > last[0]) return within(atOrBelow(last), 1);
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid]![0] <= x) lo = mid;
    else hi = mid;
  }
  if (points[hi]![0] === x) lo = hi;
  const p = points[lo]!;
  if (p[0] === x) return within(below(p), atOrBelow(p));
  const q = points[hi]!;
  return atOrBelow(p) + ((x - p[0]) / (q[0] - p[0])) * (below(q) - atOrBelow(p));
}

/** Legendre polynomials P1..P4 at t = 2u − 1; each lies in [−1, 1], mean 0 under the baseline. */
export function legendre(u: number): [number, number, number, number] {
  const t = 2 * u - 1;
  const t2 = t * t;
  return [t, (3 * t2 - 1) / 2, (5 * t2 * t - 3 * t) / 2, (35 * t2 * t2 - 30 * t2 + 3) / 8];
}

let shared: (() => number) | null = null;
/** One CSPRNG pool per realm, made on first use (protocol must load where WebCrypto is absent too). */
const defaultUniform = () => (shared ??= cryptoUniform());

export interface FeatureSketch {
  bins: number[];
  components: number[];
}

/** Bin index of a numeric value: 0 underflow, 1..B interior, B+1 overflow, B+2 missing. */
export function numericBin(x: number | null | undefined, edges: number[]): number {
  const B = edges.length - 1;
  if (x === null || x === undefined || !Number.isFinite(x)) return B + 2;
  if (x < edges[0]!) return 0;
  if (x > edges[B]!) return B + 1;
  let lo = 0;
  let hi = B; // edges[lo] <= x; the last interior bin is closed on the right
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return lo + 1;
}

/**
 * A device's sketch of one numeric feature; null when it saw fewer than MIN_SAMPLES values.
 * Values are taken as float32 (what a TF.js tensor holds, and what the baseline was built from);
 * non-finite values (NaN, ±Infinity) count as MISSING and take no part in the PIT.
 * `uniform` draws the randomized PIT inside atoms: the CSPRNG on devices, a fixed sequence in vectors.
 */
export function sketchNumeric(
  values: (number | null)[],
  edges: number[],
  table?: PitPoint[],
  uniform: () => number = defaultUniform(),
): FeatureSketch | null {
  if (values.length < MIN_SAMPLES) return null;
  const counts = new Array<number>(edges.length - 1 + 3).fill(0);
  const sums = [0, 0, 0, 0];
  const points = table ?? edgePoints(edges);
  let present = 0;
  for (const raw of values) {
    const x = raw === null || raw === undefined ? null : Math.fround(raw);
    counts[numericBin(x, edges)]!++;
    if (x === null || !Number.isFinite(x)) continue;
    present++;
    // legendre() inlined (same arithmetic, same order: bit-identical sums) — this runs on devices.
    const t = 2 * pitOn(points, x, uniform) - 1;
    const t2 = t * t;
    sums[0]! += t;
    sums[1]! += (3 * t2 - 1) / 2;
    sums[2]! += (5 * t2 * t - 3 * t) / 2;
    sums[3]! += (35 * t2 * t2 - 30 * t2 + 3) / 8;
  }
  return {
    bins: quantizeFractions(counts),
    components: sums.map((s) => (present === 0 ? 0 : Math.round((s / present) * COMPONENT_SCALE) + 0)), // + 0: no -0
  };
}

/**
 * A device's sketch of one categorical feature: vocabulary, then OTHER, then MISSING. Health
 * counters pass `minSamples` 1 (one load a day is a full record); drift features keep MIN_SAMPLES.
 */
export function sketchCategorical(
  values: (string | null)[],
  vocabulary: string[],
  minSamples = MIN_SAMPLES,
): FeatureSketch | null {
  if (values.length < Math.max(1, minSamples)) return null;
  const index = new Map(vocabulary.map((v, i) => [v, i]));
  const counts = new Array<number>(vocabulary.length + 2).fill(0);
  for (const v of values)
    counts[v === null || v === undefined ? vocabulary.length + 1 : (index.get(v) ?? vocabulary.length)]!++;
  return { bins: quantizeFractions(counts), components: [] };
}
