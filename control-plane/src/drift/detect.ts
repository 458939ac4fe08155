/**
 * @module drift/detect
 * Per-feature tests on a released window, Bonferroni across features, an effect-size floor, and
 * effect sizes beside the p-values (DESIGN §7). A feature alarms only when it is significant
 * after correction, its effect is above the floor, and enough devices contributed.
 */
import { COMPONENT_SCALE, SKETCH_SCALE, type SketchAggregate, type SketchLayout } from '@modelfleet/protocol';
import { smoothTest } from './smooth-test.ts';

export interface DetectOptions {
  familyAlpha: number;
  /** Minimum implied location shift, in baseline σ, for an alarm. */
  minSigmaShift: number;
  minDevices: number;
  /** DP noise σ on released first-moment sums (normalised units). */
  noiseSigma: number;
}

export const DEFAULT_DETECT: Omit<DetectOptions, 'noiseSigma'> = { familyAlpha: 0.01, minSigmaShift: 0.05, minDevices: 1000 };

export interface FeatureVerdict {
  name: string;
  test: 'smooth' | 'none';
  devices: number;
  statistic: number | null;
  p: number | null;
  effects: { sigmaShift: number | null; psi: number; js: number; linf: number };
  alarm: boolean;
}

/** Bin-based effect sizes against equiprobable interior bins (tails folded into the end bins). */
function binEffects(sumBins: number[], devices: number): { psi: number; js: number; linf: number } {
  const B = sumBins.length - 3;
  const counts = sumBins.slice(1, B + 1);
  counts[0]! += sumBins[0]!;
  counts[B - 1]! += sumBins[B + 1]!;
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  const p = counts.map((c) => Math.max(c / total, 1e-6));
  const q = 1 / B;
  const m = p.map((x) => (x + q) / 2);
  // PSI's expected value under no drift is ≈ (B − 1)/n; subtracting it makes small fleets comparable.
  const psi = p.reduce((s, x) => s + (x - q) * Math.log(x / q), 0) - (B - 1) / Math.max(devices, 1);
  const js = 0.5 * p.reduce((s, x, i) => s + x * Math.log(x / m[i]!) + q * Math.log(q / m[i]!), 0);
  return { psi, js, linf: Math.max(...p.map((x) => Math.abs(x - q))) };
}

export function detectDrift(layout: SketchLayout, agg: SketchAggregate, options: DetectOptions): { features: FeatureVerdict[]; alarm: boolean } {
  const tested = layout.features.filter((f) => f.kind === 'numeric').length;
  const alpha = options.familyAlpha / Math.max(tested, 1); // Bonferroni
  const features = layout.features.map((f, i): FeatureVerdict => {
    const a = agg.features[i]!;
    const effects = binEffects(a.sumBins.map((s) => s / SKETCH_SCALE), a.devices);
    if (f.kind !== 'numeric') return { name: f.name, test: 'none', devices: a.devices, statistic: null, p: null, effects: { ...effects, sigmaShift: null }, alarm: false };
    const r = smoothTest({
      devices: a.devices,
      sumComponents: a.sumComponents.map((s) => s / COMPONENT_SCALE),
      sumComponentProducts: a.sumComponentProducts.map((s) => s / COMPONENT_SCALE ** 2),
      noiseSigma: options.noiseSigma,
    });
    const alarm = !!r && r.p < alpha && r.sigmaShift >= options.minSigmaShift && a.devices >= options.minDevices;
    return { name: f.name, test: 'smooth', devices: a.devices, statistic: r?.statistic ?? null, p: r?.p ?? null, effects: { ...effects, sigmaShift: r?.sigmaShift ?? null }, alarm };
  });
  return { features, alarm: features.some((f) => f.alarm) };
}
