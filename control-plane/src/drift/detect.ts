/**
 * @module drift/detect
 * Per-feature tests on a released window — the device-level smooth test for numeric features,
 * device-level Rao–Scott χ² for categorical ones with training frequencies — Bonferroni across features, an effect-size floor, and
 * effect sizes beside the p-values (DESIGN §7). A feature alarms only when it is significant
 * after correction, its effect is above the floor, and enough devices contributed.
 */
import { COMPONENT_SCALE, OUTPUT_CLASS, OUTPUT_CONFIDENCE, type ReleaseNoise, SKETCH_SCALE, type SketchAggregate, type SketchLayout } from '@modelfleet/protocol';
import { raoScott } from './rao-scott.ts';
import { smoothTest } from './smooth-test.ts';

export interface DetectOptions {
  familyAlpha: number;
  /** Minimum implied location shift, in baseline σ, for a numeric alarm. */
  minSigmaShift: number;
  /** Minimum largest change of a category's share (L∞) for a categorical alarm. */
  minCategoryShift: number;
  /** Drop of label-free estimated accuracy that, with significant confidence drift, asks for retraining. */
  minAccuracyDrop: number;
  minDevices: number;
  /** DP noise σ per released group (normalised units). */
  noise: ReleaseNoise;
}

export const DEFAULT_DETECT: Omit<DetectOptions, 'noise'> = { familyAlpha: 0.01, minSigmaShift: 0.05, minCategoryShift: 0.01, minAccuracyDrop: 0.05, minDevices: 1000 };

export interface FeatureVerdict {
  name: string;
  test: 'smooth' | 'rao-scott' | 'none';
  devices: number;
  statistic: number | null;
  p: number | null;
  effects: { sigmaShift: number | null; psi: number; js: number; linf: number };
  /** The released (noised) bin shares beside the baseline's, for charts: already public, no extra budget. */
  bins: { labels: string[]; observed: number[]; expected: number[] };
  alarm: boolean;
}

const round4 = (xs: number[]) => xs.map((x) => Math.round(x * 1e4) / 1e4);
const fmtEdge = (x: number) => String(Math.round(x * 1000) / 1000);

/**
 * Effect sizes of observed bin fractions `p` against expected `q`: bias-corrected PSI (its
 * expectation under no drift, ≈ (B − 1)/n, subtracted, so small fleets compare with large ones),
 * Jensen–Shannon divergence and the largest absolute difference.
 */
function effects(p: number[], q: number[], devices: number): { psi: number; js: number; linf: number } {
  const B = p.length;
  const pp = p.map((x) => Math.max(x, 1e-6));
  const qq = q.map((x) => Math.max(x, 1e-6));
  const m = pp.map((x, i) => (x + qq[i]!) / 2);
  const psi = pp.reduce((s, x, i) => s + (x - qq[i]!) * Math.log(x / qq[i]!), 0) - (B - 1) / Math.max(devices, 1);
  const js = 0.5 * pp.reduce((s, x, i) => s + x * Math.log(x / m[i]!) + qq[i]! * Math.log(qq[i]! / m[i]!), 0);
  return { psi, js, linf: Math.max(...p.map((x, i) => Math.abs(x - q[i]!))) };
}

/** Numeric bins against the equiprobable interior bins (tails folded into the end bins, missing left out). */
function numericEffects(sumBins: number[], devices: number, edges: number[] | undefined) {
  const B = sumBins.length - 3;
  const counts = sumBins.slice(1, B + 1);
  counts[0]! += sumBins[0]!;
  counts[B - 1]! += sumBins[B + 1]!;
  const total = counts.reduce((a, b) => a + Math.max(b, 0), 0) || 1;
  const observed = counts.map((c) => Math.max(c, 0) / total);
  const expected = new Array(B).fill(1 / B);
  const labels = Array.from({ length: B }, (_, i) => (edges ? `${i === 0 ? '<' : fmtEdge(edges[i]!)}…${i === B - 1 ? '>' : fmtEdge(edges[i + 1]!)}` : `bin ${i + 1}`));
  return { fx: effects(observed, expected, devices), bins: { labels, observed: round4(observed), expected: round4(expected) } };
}

export interface OutputVerdict {
  /** The predicted-class mix or the confidence distribution moved (their feature alarms). */
  predictionDrift: boolean;
  /** Mean top-class confidence over devices: the accuracy a calibrated model expects, without labels. */
  estimatedAccuracy: number | null;
  baselineAccuracy: number | null;
  accuracyDrop: number | null;
  /** Significant confidence drift with a drop of at least `minAccuracyDrop`. */
  accuracyAlarm: boolean;
}

export interface DriftVerdict { features: FeatureVerdict[]; outputs: OutputVerdict | null; alarm: boolean }

/**
 * Label-free accuracy: with calibrated confidences, E[correct] = E[top-class confidence]. The
 * fleet's mean confidence comes from the released bins (bin midpoints); the baseline's from the
 * validation deciles (equiprobable bins). Needs calibration to be meaningful — DESIGN §7.
 */
function meanConfidence(edges: number[], fractions: number[] | null): number {
  const B = edges.length - 1;
  const mids = edges.slice(0, B).map((e, b) => (e + edges[b + 1]!) / 2);
  if (!fractions) return mids.reduce((a, b) => a + b, 0) / B;
  const interior = fractions.slice(1, B + 1);
  interior[0]! += fractions[0]!; // below the lowest decile: the lowest bin
  interior[B - 1]! += fractions[B + 1]!;
  const total = interior.reduce((a, b) => a + Math.max(b, 0), 0) || 1;
  return interior.reduce((s, f, b) => s + (Math.max(f, 0) / total) * mids[b]!, 0);
}

function outputVerdict(layout: SketchLayout, agg: SketchAggregate, features: FeatureVerdict[], options: DetectOptions): OutputVerdict | null {
  const classAt = layout.features.findIndex((f) => f.name === OUTPUT_CLASS);
  const confAt = layout.features.findIndex((f) => f.name === OUTPUT_CONFIDENCE);
  if (classAt < 0 && confAt < 0) return null;
  const predictionDrift = [classAt, confAt].some((i) => i >= 0 && features[i]!.alarm);
  const edges = confAt >= 0 ? layout.features[confAt]!.edges : undefined;
  if (!edges || agg.features[confAt]!.devices === 0) {
    return { predictionDrift, estimatedAccuracy: null, baselineAccuracy: edges ? meanConfidence(edges, null) : null, accuracyDrop: null, accuracyAlarm: false };
  }
  const estimatedAccuracy = meanConfidence(edges, agg.features[confAt]!.sumBins.map((s) => s / SKETCH_SCALE));
  const baselineAccuracy = meanConfidence(edges, null);
  const accuracyDrop = baselineAccuracy - estimatedAccuracy;
  return { predictionDrift, estimatedAccuracy, baselineAccuracy, accuracyDrop, accuracyAlarm: features[confAt]!.alarm && accuracyDrop >= options.minAccuracyDrop };
}

export function detectDrift(layout: SketchLayout, agg: SketchAggregate, options: DetectOptions): DriftVerdict {
  const tested = layout.features.filter((f) => f.kind === 'numeric' || f.expected).length;
  const alpha = options.familyAlpha / Math.max(tested, 1); // Bonferroni
  const features = layout.features.map((f, i): FeatureVerdict => {
    const a = agg.features[i]!;
    const enough = a.devices >= options.minDevices;
    if (f.kind === 'categorical') {
      const total = a.sumBins.reduce((s, x) => s + Math.max(x, 0), 0) || 1;
      const observed = a.sumBins.map((x) => Math.max(x, 0) / total);
      const q = f.expected ?? new Array(f.bins).fill(1 / f.bins);
      const fx = { ...effects(observed, q, a.devices), sigmaShift: null };
      const bins = { labels: [...(f.vocabulary ?? observed.slice(2).map((_, k) => `#${k}`)), 'OTHER', 'MISSING'], observed: round4(observed), expected: round4(q) };
      if (!f.expected) return { name: f.name, test: 'none', devices: a.devices, statistic: null, p: null, effects: fx, bins, alarm: false };
      const r = raoScott({
        devices: a.devices,
        sumFractions: a.sumBins.map((s) => s / SKETCH_SCALE),
        sumSquares: a.sumBinSquares.map((s) => s / SKETCH_SCALE ** 2),
        expected: f.expected,
        noise: { fractions: options.noise.categoricalBins, squares: options.noise.categoricalSquares },
      });
      const alarm = !!r && r.p < alpha && fx.linf >= options.minCategoryShift && enough;
      return { name: f.name, test: 'rao-scott', devices: a.devices, statistic: r?.statistic ?? null, p: r?.p ?? null, effects: fx, bins, alarm };
    }
    const { fx, bins } = numericEffects(a.sumBins.map((s) => s / SKETCH_SCALE), a.devices, f.edges);
    const r = smoothTest({
      devices: a.devices,
      sumComponents: a.sumComponents.map((s) => s / COMPONENT_SCALE),
      sumComponentProducts: a.sumComponentProducts.map((s) => s / COMPONENT_SCALE ** 2),
      noiseSigma: options.noise.components,
      productsNoiseSigma: options.noise.componentProducts,
    });
    const alarm = !!r && r.p < alpha && r.sigmaShift >= options.minSigmaShift && enough;
    return { name: f.name, test: 'smooth', devices: a.devices, statistic: r?.statistic ?? null, p: r?.p ?? null, effects: { ...fx, sigmaShift: r?.sigmaShift ?? null }, bins, alarm };
  });
  return { features, outputs: outputVerdict(layout, agg, features, options), alarm: features.some((f) => f.alarm) };
}
