/**
 * @module sketch-aggregate
 * The fleet aggregate of one (model, version, window, cohort): per feature, the number of
 * contributing devices and the exact integer sums the drift tests need — Σh and Σh² per bin
 * (Rao–Scott), Σg and Σggᵀ of the Legendre components (device-level Hotelling). The individual
 * vectors are not kept. Integer sums stay exact in float64 up to MAX_DEVICES contributions.
 */
import { type RandomWords, discreteGaussianSampler } from './discrete-gaussian.ts';
import { ProtocolError } from './errors.ts';
import { COMPONENT_SCALE, SKETCH_SCALE, type SketchLayout } from './sketch.ts';
import type { SketchUpload } from './sketch-upload.ts';

/** 4096² · 2²⁴ and 16384² · 2²⁴ stay below 2⁵³: sums are exact integers. */
export const MAX_DEVICES = 2 ** 24;

/**
 * Each device's component vector is clipped to this L2 norm (= 1.0 in normalised units) before it
 * is added: it bounds one device's influence, and so the DP noise needed, at half the unclipped
 * bound of √K. Device means of 10–64 values rarely come near it, so the test loses nothing.
 */
export const COMPONENT_CLIP = COMPONENT_SCALE;

/** Integer clipping: deterministic, so merges stay exact. */
export function clipComponents(g: number[]): number[] {
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  if (norm <= COMPONENT_CLIP) return g;
  return g.map((x) => Math.trunc((x * COMPONENT_CLIP) / norm));
}

export interface FeatureAggregate {
  devices: number;
  sumBins: number[];
  sumBinSquares: number[];
  sumComponents: number[];
  /** Upper triangle of Σggᵀ, row by row: (0,0), (0,1), …, (K−1,K−1). */
  sumComponentProducts: number[];
}

export interface SketchAggregate {
  schemaDigest: string;
  window: number;
  devices: number;
  features: FeatureAggregate[];
}

export function emptyAggregate(layout: SketchLayout, window: number): SketchAggregate {
  return {
    schemaDigest: layout.schemaDigest,
    window,
    devices: 0,
    features: layout.features.map((f) => ({
      devices: 0,
      sumBins: new Array(f.bins).fill(0),
      sumBinSquares: new Array(f.bins).fill(0),
      sumComponents: new Array(f.components).fill(0),
      sumComponentProducts: new Array((f.components * (f.components + 1)) / 2).fill(0),
    })),
  };
}

/** Adds one decoded upload into the aggregate, in place. */
export function addUpload(agg: SketchAggregate, upload: SketchUpload): void {
  if (upload.schemaDigest !== agg.schemaDigest || upload.window !== agg.window) {
    throw new ProtocolError('sketch_schema_mismatch', 'upload belongs to another schema or window than this aggregate');
  }
  if (agg.devices >= MAX_DEVICES)
    throw new ProtocolError('sketch_out_of_range', `aggregate is full (${MAX_DEVICES} devices)`);
  agg.devices++;
  // Plain loops, no per-upload allocation beyond clipping: this runs once per upload in the
  // Durable Object (the merge-throughput benchmark measures it).
  for (let i = 0; i < upload.features.length; i++) {
    const s = upload.features[i];
    if (!s) continue;
    const f = agg.features[i]!;
    f.devices++;
    const bins = s.bins;
    for (let b = 0; b < bins.length; b++) {
      const h = bins[b]!;
      f.sumBins[b]! += h;
      f.sumBinSquares[b]! += h * h;
    }
    const g = clipComponents(s.components);
    let p = 0;
    for (let k = 0; k < g.length; k++) {
      const x = g[k]!;
      f.sumComponents[k]! += x;
      for (let l = k; l < g.length; l++) f.sumComponentProducts[p++]! += x * g[l]!;
    }
  }
}

/** a + b, as a new aggregate. Exact: the order of merges never changes a bit. */
export function mergeSketches(a: SketchAggregate, b: SketchAggregate): SketchAggregate {
  if (a.schemaDigest !== b.schemaDigest || a.window !== b.window || a.features.length !== b.features.length) {
    throw new ProtocolError('sketch_schema_mismatch', 'only aggregates of the same schema and window can be merged');
  }
  if (a.devices + b.devices > MAX_DEVICES)
    throw new ProtocolError('sketch_out_of_range', `merged aggregate would exceed ${MAX_DEVICES} devices`);
  const add = (x: number[], y: number[]) => x.map((v, i) => v + y[i]!);
  return {
    schemaDigest: a.schemaDigest,
    window: a.window,
    devices: a.devices + b.devices,
    features: a.features.map((f, i) => {
      const g = b.features[i]!;
      return {
        devices: f.devices + g.devices,
        sumBins: add(f.sumBins, g.sumBins),
        sumBinSquares: add(f.sumBinSquares, g.sumBinSquares),
        sumComponents: add(f.sumComponents, g.sumComponents),
        sumComponentProducts: add(f.sumComponentProducts, g.sumComponentProducts),
      };
    }),
  };
}

/**
 * Per-group (discrete) Gaussian noise σ for a release, in normalised units (bins as fractions of 1,
 * components in [−1, 1]); each group has its own share of the privacy budget. Numeric features
 * release bins (for effect sizes), components and their second moments; categorical features
 * release bins and bin squares (the Rao–Scott test's inputs).
 */
export interface ReleaseNoise {
  components: number;
  componentProducts: number;
  numericBins: number;
  categoricalBins: number;
  categoricalSquares: number;
  /**
   * Indices (in the layout) of features left out of this release: zeroed, never noised, and
   * costing nothing — a rollout step's health release carries only the features its plan judges,
   * so the whole budget sharpens those (control-plane rollouts/step-budget.ts).
   */
  withheld?: number[];
}

/**
 * Adds the release noise to every sum that leaves the aggregate, in place, and zeroes what is
 * not released (numeric bin squares: no test uses them; any group whose σ is infinite). Device counts
 * are not noised: they gate `minDevices` and are the denominators of every test (see docs/drift-and-privacy.md,
 * "What the privacy guarantee covers").
 *
 * The noise is the discrete Gaussian (discrete-gaussian.ts), exact on the integer sums: σ is in
 * normalised units, so in the sums' integer units it is σ·SKETCH_SCALE for bins, σ·SKETCH_SCALE²
 * for bin squares, σ·COMPONENT_SCALE for components and σ·COMPONENT_SCALE² for their products
 * (powers of two, so those products are exact doubles). Every released sum stays an integer.
 * `words` draws uniform 32-bit words: the platform CSPRNG (`cryptoWords`) in the Durable Object,
 * a seeded generator in simulations and tests.
 */
export function addReleaseNoise(agg: SketchAggregate, noise: ReleaseNoise, words: RandomWords): void {
  const S = SKETCH_SCALE;
  const C = COMPONENT_SCALE;
  // A group with infinite σ has no budget: it is withheld (zeroed), never released exact.
  const noised = (xs: number[], sigma: number, unit: number) => {
    if (!Number.isFinite(sigma)) return xs.map(() => 0);
    if (sigma === 0 || xs.length === 0) return xs.slice(); // σ = 0 spends ∞ ρ; the ledger says so
    const draw = discreteGaussianSampler(sigma * unit, words);
    return xs.map((x) => x + draw());
  };
  const withheld = new Set(noise.withheld ?? []);
  agg.features.forEach((f, i) => {
    if (withheld.has(i)) {
      for (const k of ['sumBins', 'sumBinSquares', 'sumComponents', 'sumComponentProducts'] as const)
        f[k] = f[k].map(() => 0);
      return;
    }
    const numeric = f.sumComponents.length > 0;
    f.sumBins = noised(f.sumBins, numeric ? noise.numericBins : noise.categoricalBins, S);
    f.sumBinSquares = numeric ? f.sumBinSquares.map(() => 0) : noised(f.sumBinSquares, noise.categoricalSquares, S * S);
    f.sumComponents = noised(f.sumComponents, noise.components, C);
    f.sumComponentProducts = noised(f.sumComponentProducts, noise.componentProducts, C * C);
  });
}
