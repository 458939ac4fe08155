// The exact discrete Gaussian (CKS 2020) that noises every release: integer outputs, mean 0,
// variance equal to the discrete Gaussian's own (≈ σ² for σ ≳ 1, below it for tiny σ),
// symmetric, σ² rounded up never down, and a release that adds only integers.
import { describe, expect, it } from 'vitest';
import {
  bernoulliExp,
  discreteGaussian,
  discreteGaussianSampler,
  discreteLaplace,
  isqrt,
  uniformBelow,
  varianceOf,
} from './discrete-gaussian.ts';
import { addReleaseNoise, addUpload, emptyAggregate } from './sketch-aggregate.ts';
import type { Baseline } from './baseline.ts';
import { sketchCategorical, sketchLayout, sketchNumeric } from './sketch.ts';
import { seededUniform, seededWords } from './testing.ts';

const draws = 20_000;

/** The discrete Gaussian's exact variance Σx²e^{−x²/2σ²} / Σe^{−x²/2σ²} (below σ² for small σ). */
function exactVariance(sigma: number): number {
  // Past σ ≈ 3 the sums equal σ² to within 4π²σ²e^{−2π²σ²} (Poisson summation): below 1e−70.
  if (sigma > 20) return sigma * sigma;
  let z = 1;
  let m = 0;
  for (let x = 1; x < 40 * sigma + 40; x++) {
    const p = Math.exp(-(x * x) / (2 * sigma * sigma));
    z += 2 * p;
    m += 2 * x * x * p;
  }
  return m / z;
}

describe('discrete Gaussian sampler', () => {
  // n draws: the sample mean has sd σ/√n; the sample variance has relative sd ≈ √(2/n) (kurtosis 3
  // for σ ≳ 1; tiny σ is within it too). Bounds at ~5 sd, so a fixed seed passing is no fluke.
  const n = 20_000;
  const sigmas = [0.3, 0.8, 1, 3.7, 50, 4096 * 0.9, 1e6, 4.5e9];
  it.each(sigmas)("σ = %d: exact integers, mean ≈ 0, variance ≈ the discrete Gaussian's (≈ σ²), symmetric", (sigma) => {
    const draw = discreteGaussianSampler(sigma, seededWords(Math.round(sigma * 1000) + 1));
    const xs = Array.from({ length: n }, draw);
    expect(xs.every(Number.isSafeInteger)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
    const expected = exactVariance(sigma);
    expect(Math.abs(mean)).toBeLessThan((5 * Math.sqrt(expected)) / Math.sqrt(n));
    expect(Math.abs(variance / expected - 1)).toBeLessThan(5 * Math.sqrt(2 / n) + (sigma < 1 ? 0.05 : 0)); // ±5 %
    if (sigma >= 1) expect(Math.abs(expected / sigma ** 2 - 1)).toBeLessThan(1e-3); // ≈ σ² once σ ≥ 1
    // Symmetry: as many positive as negative draws (binomial, ±5 sd).
    const pos = xs.filter((x) => x > 0).length;
    const neg = xs.filter((x) => x < 0).length;
    expect(Math.abs(pos - neg)).toBeLessThan(5 * Math.sqrt(pos + neg));
  });

  it('tiny σ: frequencies of −1, 0, 1 match the exact probabilities', () => {
    const sigma = 0.5;
    const draw = discreteGaussianSampler(sigma, seededWords(99));
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const x = draw();
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    const weight = (x: number) => Math.exp(-(x * x) / (2 * sigma * sigma));
    const z = [-4, -3, -2, -1, 0, 1, 2, 3, 4].reduce((s, x) => s + weight(x), 0);
    for (const x of [-1, 0, 1]) {
      const p = weight(x) / z;
      expect(Math.abs((counts.get(x) ?? 0) - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
    }
  });

  it('is reproducible from a seed and exact in BigInt for huge σ²', () => {
    const a = Array.from({ length: 50 }, discreteGaussianSampler(1e9, seededWords(5)));
    const b = Array.from({ length: 50 }, discreteGaussianSampler(1e9, seededWords(5)));
    expect(a).toEqual(b);
    const big = discreteGaussian({ num: 10n ** 30n, den: 1n }, seededWords(6)); // σ = 10¹⁵: beyond a double's integers
    expect(typeof big).toBe('bigint');
  });

  it('rounds σ² up, never down, to a rational', () => {
    for (const sigma of [1e-300, 0.1, 0.3, 1 / 3, 2.5, 4096 * 0.123456789, 16384 ** 2 * 17.3, 1e15 + 1]) {
      const { num, den } = varianceOf(sigma);
      expect(num > 0n && den > 0n).toBe(true);
      // num/den ≥ σ² exactly: compare num·2^k with m² … via a high-precision check on the double.
      const [m, k] = (() => {
        let x = sigma;
        let s = 0;
        while (!Number.isInteger(x)) {
          x *= 2;
          s++;
        }
        return [BigInt(x), BigInt(2 * s)];
      })();
      expect(num * (1n << k) >= m * m * den).toBe(true); // num/den ≥ m²/2^k = σ²
      if (sigma > 1e-100) expect(Number(num) / Number(den) / sigma ** 2 - 1).toBeLessThan(1e-15); // and only just
    }
    expect(() => varianceOf(0)).toThrow();
    expect(() => varianceOf(Infinity)).toThrow();
  });

  it('building blocks: uniform below n, Bernoulli(exp(−γ)), discrete Laplace, integer square root', () => {
    const words = seededWords(11);
    const n = 3n * 2n ** 70n + 5n;
    for (let i = 0; i < 200; i++) {
      const u = uniformBelow(n, words);
      expect(u >= 0n && u < n).toBe(true);
    }
    // Bernoulli(exp(−γ)) for γ = 0, 1/2, 5/2 (the γ > 1 branch): frequencies within 5 sd.
    for (const [num, den] of [
      [0n, 1n],
      [1n, 2n],
      [5n, 2n],
    ] as const) {
      const p = Math.exp(-Number(num) / Number(den));
      let hits = 0;
      for (let i = 0; i < draws; i++) if (bernoulliExp({ num, den }, words)) hits++;
      expect(Math.abs(hits - draws * p)).toBeLessThanOrEqual(5 * Math.sqrt(draws * p * (1 - p)) + 1e-9);
    }
    // Discrete Laplace with scale t: E|X| = 2e^{−1/t}/(1 − e^{−2/t}) (two-sided geometric).
    const t = 7;
    const q = Math.exp(-1 / t);
    let abs = 0;
    for (let i = 0; i < draws; i++) abs += Math.abs(Number(discreteLaplace(BigInt(t), words)));
    expect(abs / draws / ((2 * q) / (1 - q * q)) - 1).toBeLessThan(0.05);
    for (const x of [0n, 1n, 2n, 3n, 15n, 16n, 17n, 10n ** 40n, 10n ** 40n - 1n, 2n ** 106n + 12345n]) {
      const r = isqrt(x);
      expect(r * r <= x && (r + 1n) * (r + 1n) > x).toBe(true);
    }
  });
});

describe('release noise', () => {
  it('adds only integers, to every released sum, and none stays a float', async () => {
    const edges = [-2, -1, 0, 1, 2];
    const baseline: Baseline = {
      features: [
        { name: 'x', kind: 'numeric', edges },
        { name: 'c', kind: 'categorical', vocabulary: ['a', 'b'] },
      ],
    };
    const layout = await sketchLayout(baseline);
    const agg = emptyAggregate(layout, 1);
    const uniform = seededUniform(4);
    for (let d = 0; d < 50; d++) {
      addUpload(agg, {
        schemaDigest: layout.schemaDigest,
        window: 1,
        features: [
          sketchNumeric(
            Array.from({ length: 20 }, () => 4 * uniform() - 2),
            edges,
          ),
          sketchCategorical(
            Array.from({ length: 20 }, () => (uniform() < 0.5 ? 'a' : 'b')),
            ['a', 'b'],
          ),
        ],
      });
    }
    const raw = structuredClone(agg);
    // σ in normalised units, small and large: in integer units 0.3·4096 … 17·16384².
    addReleaseNoise(
      agg,
      { components: 0.01, componentProducts: 17, numericBins: 0.3, categoricalBins: 1e-4, categoricalSquares: 2 },
      seededWords(8),
    );
    const released = agg.features.flatMap((f) => [
      ...f.sumBins,
      ...f.sumBinSquares,
      ...f.sumComponents,
      ...f.sumComponentProducts,
    ]);
    expect(released.every(Number.isSafeInteger)).toBe(true);
    const before = raw.features.flatMap((f) => [...f.sumBins, ...f.sumComponents, ...f.sumComponentProducts]);
    const after = agg.features.flatMap((f) => [...f.sumBins, ...f.sumComponents, ...f.sumComponentProducts]);
    expect(after.filter((x, i) => x !== before[i]).length).toBeGreaterThan(before.length / 2);
  });
});
