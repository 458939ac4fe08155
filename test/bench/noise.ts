/**
 * @module bench/noise
 * Release noise figures beside their anchors from the same run: draws/s of the exact discrete
 * Gaussian sampler (protocol/discrete-gaussian.ts) vs the Box–Muller float sampler it replaced,
 * both fed by the same buffered CSPRNG words, at the integer-unit σ of a typical release's bins
 * and of its component products; and the time to noise one typical release (20 numeric
 * features, ε = 2 per day) vs the float noising of the same release.
 * Runs inside `npm run bench`, or alone: `node --import tsx test/bench/noise.ts`.
 */
import {
  type ReleaseNoise,
  type SketchAggregate,
  COMPONENT_SCALE,
  SKETCH_SCALE,
  addReleaseNoise,
  addUpload,
  cryptoWords,
  discreteGaussianSampler,
  emptyAggregate,
  sketchLayout,
  sketchNumeric,
} from '@modelfleet/protocol';
import { releaseNoise } from '../../control-plane/src/drift/privacy.ts';
import { normalBaseline } from '../sim/drift-sim.ts';

export interface Row {
  bench: string;
  value: string;
  anchor: string;
  ratio: string;
  target: string;
}
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * Draws per second of `draw`: the median of 7 rounds of ~60 ms after a JIT warm-up, so a burst
 * of load from other processes moves one round, not the figure.
 */
function rate(draw: () => number): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += draw();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < 60) {
      for (let i = 0; i < 500; i++) sink += draw();
      n += 500;
      now = performance.now();
    }
    rounds.push(n / ((now - start) / 1000));
  }
  if (sink === 0.5) console.log(''); // keeps the loop from being optimised away
  return rounds.sort((a, b) => a - b)[3]!;
}

/** The float sampler the release used before (Box–Muller on two CSPRNG words), as the anchor. */
function boxMuller(words: () => number, sigma: number): () => number {
  return () => {
    const a = (words() + 1) / 4294967297;
    const b = words() / 4294967296;
    return sigma * Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
  };
}

/** The float release the discrete one replaced (same groups, same units), for the anchor. */
function floatRelease(agg: SketchAggregate, noise: ReleaseNoise, normal: () => number): void {
  const noised = (xs: number[], sigma: number, unit: number) =>
    xs.map((x) => (Number.isFinite(sigma) ? x + sigma * unit * normal() : 0));
  for (const f of agg.features) {
    const numeric = f.sumComponents.length > 0;
    f.sumBins = noised(f.sumBins, numeric ? noise.numericBins : noise.categoricalBins, SKETCH_SCALE);
    f.sumBinSquares = numeric
      ? f.sumBinSquares.map(() => 0)
      : noised(f.sumBinSquares, noise.categoricalSquares, SKETCH_SCALE ** 2);
    f.sumComponents = noised(f.sumComponents, noise.components, COMPONENT_SCALE);
    f.sumComponentProducts = noised(f.sumComponentProducts, noise.componentProducts, COMPONENT_SCALE ** 2);
  }
}

export async function noiseBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const F = 20;
  const baseline = normalBaseline(F);
  const layout = await sketchLayout(baseline);
  const noise = releaseNoise(layout, 2, 1e-6);
  const words = cryptoWords();
  const anchor = rate(boxMuller(words, 1));
  for (const [label, sigma] of [
    ['bins', noise.numericBins * SKETCH_SCALE],
    ['component products', noise.componentProducts * COMPONENT_SCALE ** 2],
  ] as const) {
    const discrete = rate(discreteGaussianSampler(sigma, words));
    rows.push({
      bench: `discrete Gaussian draws, σ = ${sigma.toExponential(2)} (a release's ${label})`,
      value: `${fmt(discrete / 1e6, 2)} M/s`,
      anchor: `${fmt(anchor / 1e6, 2)} M/s Box–Muller float`,
      ratio: `${fmt(discrete / anchor, 3)}×`,
      target: '—',
    });
  }

  // One typical release: 20 numeric features (13 bins, 4 components, 10 products each) of 500 devices.
  const agg = emptyAggregate(layout, 1);
  for (let d = 0; d < 500; d++) {
    addUpload(agg, {
      schemaDigest: layout.schemaDigest,
      window: 1,
      features: baseline.features.map((f, j) =>
        sketchNumeric(
          Array.from({ length: 30 }, (_, i) => Math.sin(d * 7 + j * 3 + i)),
          (f as { edges: number[] }).edges,
        ),
      ),
    });
  }
  const sums = agg.features.reduce(
    (n, f) => n + f.sumBins.length + f.sumComponents.length + f.sumComponentProducts.length,
    0,
  );
  // Median over 41 releases (each on a fresh copy of the same sums), after 10 for the JIT.
  const time = (release: (a: SketchAggregate) => void) => {
    const copies = Array.from({ length: 51 }, () => structuredClone(agg));
    for (const c of copies.slice(0, 10)) release(c);
    const times = copies.slice(10).map((c) => {
      const start = performance.now();
      release(c);
      return performance.now() - start;
    });
    return times.sort((a, b) => a - b)[20]!;
  };
  const discreteMs = time((a) => addReleaseNoise(a, noise, words));
  const floatMs = time((a) => floatRelease(a, noise, boxMuller(words, 1)));
  rows.push({
    bench: `noise one release (${F} numeric features, ${sums} sums, ε = 2)`,
    value: `${fmt(discreteMs, 2)} ms`,
    anchor: `${fmt(floatMs, 3)} ms float Box–Muller`,
    ratio: `${fmt(discreteMs / floatMs, 1)}×`,
    target: '≤ 50 ms (once per window per cohort)',
  });
  return rows;
}

if (process.argv[1]?.endsWith('noise.ts')) console.table(await noiseBench());
