/**
 * @module sim/drift-sim
 * Seeded simulation of drift detection over synthetic fleets with per-device heterogeneity:
 * a device's latent values are z ~ N(μᵢ + shift, 1 − τ²) with μᵢ ~ N(0, τ²), so the fleet's
 * latent is N(shift, 1). A `shape` turns z into the value a model sees — continuous, integer,
 * rounded to a grid, zero-inflated — the shapes real tabular data has and a Gaussian never shows.
 * With `baselineRows` each run draws its own baseline sample from the population and builds the
 * baseline with the protocol's own builder (atoms, shares, rows), so the baseline's sampling
 * error is part of the null, as it is in production. Devices are sketched with the protocol's
 * code (randomized PIT, fixed point), aggregated exactly, noised as the Durable Object does, and
 * the detector runs. A naive pooled χ² on the bins runs beside it for comparison.
 */
import {
  type Baseline,
  type ReleaseNoise,
  type SketchLayout,
  SKETCH_SCALE,
  addReleaseNoise,
  addUpload,
  categoricalBaseline,
  emptyAggregate,
  normalFrom,
  numericBaseline,
  seededUniform,
  seededWords,
  sketchCategorical,
  sketchLayout,
  sketchNumeric,
} from '@modelfleet/protocol';
import { DEFAULT_DETECT, detectDrift } from '../../control-plane/src/drift/detect.ts';
import { chi2Survival, normalCdf, normalQuantile } from '../../control-plane/src/drift/math.ts';
import { HEALTH_SHARE, releaseNoiseForRho, rhoFor } from '../../control-plane/src/drift/privacy.ts';

export type Shape = 'normal' | 'integer' | 'rounded' | 'zero-inflated';

export interface SimConfig {
  runs: number;
  devices: number;
  features: number;
  samplesPerDevice: number;
  tau: number;
  /** Latent mean shift (in σ) applied to feature 0; 0 for the no-drift runs. */
  shift: number;
  /** Daily ε (δ = 1e-6); Infinity for no noise. */
  epsilon: number;
  familyAlpha: number;
  seed: number;
  shape?: Shape;
  /** Rows of the per-run baseline sample; absent: the exact standard-normal baseline (normal shape only). */
  baselineRows?: number;
}

export interface SimResult {
  alarmRate: number;
  naiveAlarmRate: number;
  runs: number;
  noise: ReleaseNoise;
}

const ZERO_SHARE = 0.35;
const zeroCut = normalQuantile(ZERO_SHARE);

/** The value a model sees for latent z: what each shape stands for is in docs/drift-and-privacy.md. */
export const SHAPES: Record<Shape, (z: number) => number> = {
  normal: (z) => z,
  integer: (z) => Math.max(0, Math.round(3 + 1.5 * z)), // a count: ~9 values, every one an atom
  rounded: (z) => Math.round(2 * (12 + 5 * z)) / 2, // a temperature on a 0.5 grid: ~60 values
  'zero-inflated': (z) => (z < zeroCut ? 0 : Math.exp(z)), // 35 % exactly zero, then a long tail
};

/** Standard normal baseline: decile edges (ends at ±4) and a 65-point CDF table, treated as exact. */
export function normalBaseline(features: number): Baseline {
  const edges = [-4, ...Array.from({ length: 9 }, (_, k) => normalQuantile((k + 1) / 10)), 4];
  const pit: [number, number][] = [
    [-4, normalCdf(-4)],
    ...Array.from({ length: 63 }, (_, j) => [normalQuantile((j + 1) / 64), (j + 1) / 64] as [number, number]),
    [4, normalCdf(4)],
  ];
  return {
    features: Array.from({ length: features }, (_, i) => ({ name: `f${i}`, kind: 'numeric' as const, edges, pit })),
  };
}

function sampledBaseline(cfg: SimConfig, normal: () => number): Baseline {
  const shape = SHAPES[cfg.shape ?? 'normal'];
  return {
    features: Array.from({ length: cfg.features }, (_, i) =>
      numericBaseline(
        `f${i}`,
        Array.from({ length: cfg.baselineRows! }, () => shape(normal())),
      ),
    ),
  };
}

const noiseFor = (layout: SketchLayout, epsilon: number): ReleaseNoise =>
  // As in production when devices also send health records: drift gets 1 − HEALTH_SHARE of the day's ρ.
  Number.isFinite(epsilon)
    ? releaseNoiseForRho(layout, rhoFor(epsilon, 1e-6) * (1 - HEALTH_SHARE))
    : { components: 0, componentProducts: 0, numericBins: 0, categoricalBins: 0, categoricalSquares: 0 };

export async function simulate(cfg: SimConfig): Promise<SimResult> {
  const uniform = seededUniform(cfg.seed);
  const normal = normalFrom(uniform);
  // The release noise has its own seeded stream: the fleet's data stays the same whatever it draws.
  const words = seededWords(cfg.seed ^ 0x5eed);
  const shape = SHAPES[cfg.shape ?? 'normal'];
  const within = Math.sqrt(1 - cfg.tau ** 2);
  let alarms = 0;
  let naiveAlarms = 0;
  let noise: ReleaseNoise | null = null;
  for (let run = 0; run < cfg.runs; run++) {
    const baseline = cfg.baselineRows ? sampledBaseline(cfg, normal) : normalBaseline(cfg.features);
    const layout = await sketchLayout(baseline);
    noise = noiseFor(layout, cfg.epsilon);
    const agg = emptyAggregate(layout, 1);
    for (let d = 0; d < cfg.devices; d++) {
      const features = baseline.features.map((feature, f) => {
        const numeric = feature as { edges: number[]; pit: [number, number][] };
        const mu = cfg.tau * normal() + (f === 0 ? cfg.shift : 0);
        const values = Array.from({ length: cfg.samplesPerDevice }, () => shape(mu + within * normal()));
        return sketchNumeric(values, numeric.edges, numeric.pit, uniform);
      });
      addUpload(agg, { schemaDigest: layout.schemaDigest, window: 1, features });
    }
    // Naive, on the exact (noise-free) bins: pool every value as if independent, χ² against the baseline shares, Bonferroni.
    const naive = agg.features.some((f, i) => {
      const B = f.sumBins.length - 3;
      const expected = layout.features[i]!.expected ?? new Array<number>(B).fill(1 / B);
      const counts = f.sumBins.slice(1, B + 1).map((s) => (s / SKETCH_SCALE) * cfg.samplesPerDevice);
      counts[0]! += (f.sumBins[0]! / SKETCH_SCALE) * cfg.samplesPerDevice;
      counts[B - 1]! += (f.sumBins[B + 1]! / SKETCH_SCALE) * cfg.samplesPerDevice;
      const n = counts.reduce((a, b) => a + b, 0);
      const chi2 = counts.reduce((s, o, b) => s + (o - n * expected[b]!) ** 2 / (n * expected[b]!), 0);
      return chi2Survival(chi2, B - 1) < cfg.familyAlpha / cfg.features;
    });
    if (naive) naiveAlarms++;
    // The daily release: discrete Gaussian noise on every released sum, as the Durable Object adds it.
    addReleaseNoise(agg, noise, words);
    if (detectDrift(layout, agg, { ...DEFAULT_DETECT, familyAlpha: cfg.familyAlpha, minDevices: 0, noise }).alarm)
      alarms++;
  }
  return { alarmRate: alarms / cfg.runs, naiveAlarmRate: naiveAlarms / cfg.runs, runs: cfg.runs, noise: noise! };
}

export interface CategoricalSimConfig {
  runs: number;
  devices: number;
  samplesPerDevice: number;
  /** Weight of each device's favourite category (device heterogeneity). */
  tau: number;
  baselineRows: number;
  /** Share moved from the first category to the third (a mix shift). */
  moved: number;
  /** Share of values that become a category training never saw (OTHER). */
  unseen: number;
  epsilon: number;
  seed: number;
}

const CATEGORIES = ['a', 'b', 'c', 'd', 'e', 'f'];
const FREQUENCIES = [0.35, 0.25, 0.15, 0.12, 0.08, 0.05];

/** One categorical feature (6 values, a per-run baseline sample), devices mixing a favourite with the fleet's mix. */
export async function simulateCategorical(cfg: CategoricalSimConfig): Promise<SimResult> {
  const uniform = seededUniform(cfg.seed);
  const draw = (p: number[], labels: string[]) => {
    let u = uniform();
    for (let j = 0; j < p.length; j++) if ((u -= p[j]!) < 0) return labels[j]!;
    return labels[labels.length - 1]!;
  };
  const fleet = FREQUENCIES.map((f, j) => (j === 0 ? f - cfg.moved : j === 2 ? f + cfg.moved : f) * (1 - cfg.unseen));
  const words = seededWords(cfg.seed ^ 0x5eed); // the release noise's own stream
  let alarms = 0;
  let noise: ReleaseNoise | null = null;
  for (let run = 0; run < cfg.runs; run++) {
    const baseline: Baseline = {
      features: [
        categoricalBaseline(
          'c',
          Array.from({ length: cfg.baselineRows }, () => draw(FREQUENCIES, CATEGORIES)),
        ),
      ],
    };
    const layout = await sketchLayout(baseline);
    noise = noiseFor(layout, cfg.epsilon);
    const vocabulary = (baseline.features[0] as { vocabulary: string[] }).vocabulary;
    const agg = emptyAggregate(layout, 1);
    for (let d = 0; d < cfg.devices; d++) {
      const favourite = draw([...fleet, cfg.unseen], [...CATEGORIES, 'new']);
      const values = Array.from({ length: cfg.samplesPerDevice }, () =>
        uniform() < cfg.tau ? favourite : draw([...fleet, cfg.unseen], [...CATEGORIES, 'new']),
      );
      addUpload(agg, {
        schemaDigest: layout.schemaDigest,
        window: 1,
        features: [sketchCategorical(values, vocabulary)],
      });
    }
    addReleaseNoise(agg, noise, words);
    if (detectDrift(layout, agg, { ...DEFAULT_DETECT, minDevices: 0, noise }).alarm) alarms++;
  }
  return { alarmRate: alarms / cfg.runs, naiveAlarmRate: NaN, runs: cfg.runs, noise: noise! };
}
