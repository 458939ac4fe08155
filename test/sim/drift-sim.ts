/**
 * @module sim/drift-sim
 * Seeded simulation of drift detection over synthetic fleets with per-device heterogeneity:
 * device means μᵢ ~ N(0, τ²), values ~ N(μᵢ + shift, 1 − τ²), so the fleet is N(shift, 1).
 * Devices are sketched with the protocol's own code (bins + Legendre components, fixed point),
 * aggregated exactly, DP noise is added to the released first moments, and the detector runs.
 * A naive pooled χ² on decile bins runs beside it for comparison.
 */
import { type Baseline, type ReleaseNoise, type SketchLayout, addReleaseNoise, addUpload, emptyAggregate, sketchLayout, sketchNumeric, SKETCH_SCALE } from '@modelfleet/protocol';
import { seededUniform, seededWords } from '@modelfleet/protocol/testing';
import { DEFAULT_DETECT, detectDrift } from '../../control-plane/src/drift/detect.ts';
import { chi2Survival, normalCdf, normalQuantile } from '../../control-plane/src/drift/math.ts';
import { HEALTH_SHARE, releaseNoiseForRho, rhoFor } from '../../control-plane/src/drift/privacy.ts';

export interface SimConfig {
  runs: number;
  devices: number;
  features: number;
  samplesPerDevice: number;
  tau: number;
  /** Mean shift (in σ) applied to feature 0; 0 for the no-drift runs. */
  shift: number;
  /** Daily ε (δ = 1e-6); Infinity for no noise. */
  epsilon: number;
  familyAlpha: number;
  seed: number;
}

export interface SimResult { alarmRate: number; naiveAlarmRate: number; runs: number; noise: ReleaseNoise }

function rng(seed: number) {
  const uniform = seededUniform(seed);
  let spare: number | null = null;
  const normal = () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const u = uniform() || 1e-12;
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  return { uniform, normal };
}

/** Standard normal baseline: decile edges (ends at ±4) and a 65-point PIT table. */
export function normalBaseline(features: number): Baseline {
  const edges = [-4, ...Array.from({ length: 9 }, (_, k) => normalQuantile((k + 1) / 10)), 4];
  const pit: [number, number][] = [[-4, normalCdf(-4)], ...Array.from({ length: 63 }, (_, j) => [normalQuantile((j + 1) / 64), (j + 1) / 64] as [number, number]), [4, normalCdf(4)]];
  return { features: Array.from({ length: features }, (_, i) => ({ name: `f${i}`, kind: 'numeric' as const, edges, pit })) };
}

export async function simulate(cfg: SimConfig): Promise<SimResult> {
  const baseline = normalBaseline(cfg.features);
  const layout: SketchLayout = await sketchLayout(baseline);
  const feature = baseline.features[0]! as { edges: number[]; pit: [number, number][] };
  // As in production when devices also send health records: drift gets 1 − HEALTH_SHARE of the day's ρ.
  const noise = Number.isFinite(cfg.epsilon) ? releaseNoiseForRho(layout, rhoFor(cfg.epsilon, 1e-6) * (1 - HEALTH_SHARE)) : { components: 0, componentProducts: 0, numericBins: 0, categoricalBins: 0, categoricalSquares: 0 };
  const { normal } = rng(cfg.seed);
  // The release noise has its own seeded stream: the fleet's data stays the same whatever it draws.
  const words = seededWords(cfg.seed ^ 0x5eed);
  const within = Math.sqrt(1 - cfg.tau ** 2);
  const B = feature.edges.length - 1;
  let alarms = 0;
  let naiveAlarms = 0;
  for (let run = 0; run < cfg.runs; run++) {
    const agg = emptyAggregate(layout, 1);
    for (let d = 0; d < cfg.devices; d++) {
      const features = Array.from({ length: cfg.features }, (_, f) => {
        const mu = cfg.tau * normal() + (f === 0 ? cfg.shift : 0);
        const values = Array.from({ length: cfg.samplesPerDevice }, () => mu + within * normal());
        return sketchNumeric(values, feature.edges, feature.pit);
      });
      addUpload(agg, { schemaDigest: layout.schemaDigest, window: 1, features });
    }
    // Naive, on the exact (noise-free) bins: pool every value as if independent, χ² on deciles, Bonferroni.
    const naive = agg.features.some((f) => {
      const counts = f.sumBins.slice(1, B + 1).map((s) => (s / SKETCH_SCALE) * cfg.samplesPerDevice);
      counts[0]! += (f.sumBins[0]! / SKETCH_SCALE) * cfg.samplesPerDevice;
      counts[B - 1]! += (f.sumBins[B + 1]! / SKETCH_SCALE) * cfg.samplesPerDevice;
      const n = counts.reduce((a, b) => a + b, 0);
      const chi2 = counts.reduce((s, o) => s + (o - n / B) ** 2 / (n / B), 0);
      return chi2Survival(chi2, B - 1) < cfg.familyAlpha / cfg.features;
    });
    if (naive) naiveAlarms++;
    // The daily release: discrete Gaussian noise on every released sum, as the Durable Object adds it.
    addReleaseNoise(agg, noise, words);
    if (detectDrift(layout, agg, { ...DEFAULT_DETECT, familyAlpha: cfg.familyAlpha, minDevices: 0, noise }).alarm) alarms++;
  }
  return { alarmRate: alarms / cfg.runs, naiveAlarmRate: naiveAlarms / cfg.runs, runs: cfg.runs, noise };
}
