/**
 * @module drift/detect
 * Per-feature tests on a released window — the device-level smooth test for numeric features
 * (plus a missing-share test where the baseline records one), device-level Rao–Scott χ² for
 * categorical ones with training frequencies — Bonferroni across features, an effect-size floor,
 * and effect sizes with intervals beside the p-values (docs/drift-and-privacy.md, "Detection"). A feature
 * alarms only when it is significant after correction, its effect is above the floor, and enough
 * devices contributed. Both tests include the baseline's own sampling error (its `rows`).
 */
import {
  COMPONENT_SCALE,
  type LayoutFeature,
  SKETCH_SCALE,
  type SketchAggregate,
  type SketchLayout,
} from '@modelfleet/protocol';
import { type AccuracyContext, type OutputVerdict, outputVerdict } from './accuracy.ts';
import { type Interval, divergenceEffects, normalise, shiftEffects } from './effects.ts';
import { normalCdf } from './math.ts';
import { raoScott } from './rao-scott.ts';
import { smoothTest } from './smooth-test.ts';
import type { DetectOptions, FeatureEffects, FeatureVerdict } from './verdict-types.ts';

export type { OutputVerdict } from './accuracy.ts';

export type { DetectOptions, FeatureEffects, FeatureVerdict } from './verdict-types.ts';

export const DEFAULT_DETECT: Omit<DetectOptions, 'noise'> = {
  familyAlpha: 0.01,
  minSigmaShift: 0.05,
  minCategoryShift: 0.01,
  minAccuracyDrop: 0.05,
  minDevices: 1000,
};

export interface DriftVerdict {
  features: FeatureVerdict[];
  outputs: OutputVerdict | null;
  alarm: boolean;
  /** Why an alarm the tests raised was not raised (too few client networks, drift/networks.ts). */
  withheld?: string;
}

const round4 = (xs: number[]) => xs.map((x) => Math.round(x * 1e4) / 1e4);
const fmtEdge = (x: number) => String(Math.round(x * 1000) / 1000);

/** Interior bins with the tails folded into the end bins (missing left out), fleet vs the baseline's shares. */
function numericBins(f: LayoutFeature, fractions: number[]) {
  const B = fractions.length - 3;
  const folded = fractions.slice(1, B + 1);
  folded[0]! += fractions[0]!;
  folded[B - 1]! += fractions[B + 1]!;
  const expected = f.expected ?? new Array<number>(B).fill(1 / B);
  const edges = f.edges;
  const labels = Array.from({ length: B }, (_, i) =>
    edges ? `${i === 0 ? '<' : fmtEdge(edges[i]!)}…${i === B - 1 ? '>' : fmtEdge(edges[i + 1]!)}` : `bin ${i + 1}`,
  );
  return { labels, folded, expected };
}

/** Two-sided two-sample test of the missing share, fleet vs baseline (pooled binomial variances). */
function missingTest(f: LayoutFeature, fractions: number[], devices: number, noise: number) {
  if (f.missing === undefined) return null;
  // Each device's fractions sum to exactly 1, so the exact device count is the denominator; the
  // noised total would put the noise of every bin into it (a ratio of noises has heavy tails).
  const observed = fractions[fractions.length - 1]! / devices;
  const n = f.rows ?? Infinity;
  const pooled = Math.min(
    Math.max(
      (Math.max(observed, 0) * devices + f.missing * (Number.isFinite(n) ? n : 0)) /
        (devices + (Number.isFinite(n) ? n : 0)),
      0,
    ),
    1,
  );
  const v =
    (pooled * (1 - pooled)) / devices + (noise / devices) ** 2 + (Number.isFinite(n) ? (pooled * (1 - pooled)) / n : 0);
  const z = (observed - f.missing) / Math.sqrt(v || 1e-300);
  return { observed, expected: f.missing, p: 2 * normalCdf(-Math.abs(z)) };
}

function interval(i: Interval): [number, number] {
  return [i.low, i.high];
}

function categoricalVerdict(
  f: LayoutFeature,
  a: SketchAggregate['features'][number],
  options: DetectOptions,
  alpha: number,
): FeatureVerdict {
  const fractions = a.sumBins.map((s) => s / SKETCH_SCALE);
  const N = Math.max(a.devices, 1);
  const observed = normalise(fractions);
  const q = f.expected ?? new Array(f.bins).fill(1 / f.bins);
  const div = divergenceEffects({
    observed: fractions.map((x) => x / N),
    expected: q,
    devices: a.devices,
    noise: options.noise.categoricalBins / N,
    rows: f.rows ?? Infinity,
  });
  const effects: FeatureEffects = {
    sigmaShift: null,
    psi: div.psi.estimate,
    js: div.js.estimate,
    psiInterval: interval(div.psi),
    jsInterval: interval(div.js),
    linf: Math.max(...observed.map((x, i) => Math.abs(x - q[i]!))),
  };
  const bins = {
    labels: [...(f.vocabulary ?? observed.slice(2).map((_, k) => `#${k}`)), 'OTHER', 'MISSING'],
    observed: round4(observed),
    expected: round4(q),
  };
  if (!f.expected)
    return { name: f.name, test: 'none', devices: a.devices, statistic: null, p: null, effects, bins, alarm: false };
  const r = raoScott({
    devices: a.devices,
    sumFractions: fractions,
    sumSquares: a.sumBinSquares.map((s) => s / SKETCH_SCALE ** 2),
    expected: f.expected,
    noise: { fractions: options.noise.categoricalBins, squares: options.noise.categoricalSquares },
    ...(f.rows ? { baselineRows: f.rows } : {}),
  });
  const alarm = !!r && r.p < alpha && effects.linf >= options.minCategoryShift && a.devices >= options.minDevices;
  return {
    name: f.name,
    test: 'rao-scott',
    devices: a.devices,
    statistic: r?.statistic ?? null,
    p: r?.p ?? null,
    effects,
    bins,
    alarm,
  };
}

function numericVerdict(
  f: LayoutFeature,
  a: SketchAggregate['features'][number],
  options: DetectOptions,
  alpha: number,
): FeatureVerdict {
  const fractions = a.sumBins.map((s) => s / SKETCH_SCALE);
  const N = Math.max(a.devices, 1);
  const { labels, folded, expected } = numericBins(f, fractions);
  const rows = f.rows ?? Infinity;
  const noise = options.noise.numericBins / N;
  // Location reads the unfolded cells (a fleet beyond the baseline's range is censored, not folded away).
  const cells = fractions.slice(0, fractions.length - 1);
  const shift = shiftEffects({
    observed: cells.map((x) => x / N),
    expected: [0, ...expected, 0],
    devices: a.devices,
    noise,
    rows,
  });
  const div = divergenceEffects({ observed: folded.map((x) => x / N), expected, devices: a.devices, noise, rows });
  const observed = normalise(folded);
  const r = smoothTest({
    devices: a.devices,
    sumComponents: a.sumComponents.map((s) => s / COMPONENT_SCALE),
    sumComponentProducts: a.sumComponentProducts.map((s) => s / COMPONENT_SCALE ** 2),
    noiseSigma: options.noise.components,
    productsNoiseSigma: options.noise.componentProducts,
    ...(f.rows ? { baselineRows: f.rows } : {}),
  });
  const missing = missingTest(f, fractions, N, options.noise.numericBins);
  const ps = [r?.p, missing?.p].filter((p): p is number => typeof p === 'number');
  const p = ps.length > 0 ? Math.min(1, ps.length * Math.min(...ps)) : null;
  const effects: FeatureEffects = {
    sigmaShift: r?.sigmaShift ?? null,
    location: shift?.location ?? null,
    scale: shift?.scale ?? null,
    psi: div.psi.estimate,
    js: div.js.estimate,
    psiInterval: interval(div.psi),
    jsInterval: interval(div.js),
    linf: Math.max(...observed.map((x, i) => Math.abs(x - expected[i]!))),
  };
  const big =
    (r?.sigmaShift ?? 0) >= options.minSigmaShift ||
    Math.abs(effects.location?.estimate ?? 0) >= options.minSigmaShift ||
    (missing !== null && Math.abs(missing.observed - missing.expected) >= options.minCategoryShift);
  const alarm = p !== null && p < alpha && big && a.devices >= options.minDevices;
  return {
    name: f.name,
    test: 'smooth',
    devices: a.devices,
    statistic: r?.statistic ?? null,
    p,
    effects,
    bins: { labels, observed: round4(observed), expected: round4(expected) },
    missing,
    alarm,
  };
}

export function detectDrift(
  layout: SketchLayout,
  agg: SketchAggregate,
  options: DetectOptions,
  context: AccuracyContext = {},
): DriftVerdict {
  const tested = layout.features.filter((f) => f.kind === 'numeric' || f.expected).length;
  const alpha = options.familyAlpha / Math.max(tested, 1); // Bonferroni
  const features = layout.features.map(
    (f, i): FeatureVerdict =>
      f.kind === 'categorical'
        ? categoricalVerdict(f, agg.features[i]!, options, alpha)
        : numericVerdict(f, agg.features[i]!, options, alpha),
  );
  return {
    features,
    outputs: outputVerdict(layout, agg, features, options, context),
    alarm: features.some((f) => f.alarm),
  };
}
