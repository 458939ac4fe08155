// The baseline builder and the randomized PIT on data shaped like real tables: zero-inflated,
// rounded to a grid, integer — and the bad inputs a real table brings.
import { describe, expect, it } from 'vitest';
import { buildBaseline, categoricalBaseline, numericBaseline, outputBaseline } from './baseline-build.ts';
import { ProtocolError } from './errors.ts';
import { seededNormal, seededUniform } from './random.ts';
import { numericBin, pit, sketchCategorical, sketchLayout, sketchNumeric } from './sketch.ts';

/** Kolmogorov–Smirnov distance of sorted u from U(0, 1). */
function ksUniform(us: number[]): number {
  const s = [...us].sort((a, b) => a - b);
  return Math.max(...s.map((u, i) => Math.max((i + 1) / s.length - u, u - i / s.length)));
}

const normal = seededNormal(5);
const shapes: Record<string, () => number> = {
  'zero-inflated (35 % zeros)': () => {
    const z = normal();
    return z < -0.385 ? 0 : Math.round(Math.exp(z) * 10) / 10;
  },
  'rounded to a 0.5 grid': () => Math.round(2 * (12 + 5 * normal())) / 2,
  'integer counts': () => Math.max(0, Math.round(3 + 1.5 * normal())),
  continuous: () => normal(),
  'decimal grid that float32 cannot hold (0.1 steps)': () => Math.round(10 * normal()) / 10,
};

describe('randomized PIT', () => {
  for (const [name, draw] of Object.entries(shapes)) {
    it(`u is uniform under the baseline: ${name}`, () => {
      const values = Array.from({ length: 20_000 }, draw);
      const f = numericBaseline('x', values);
      const uniform = seededUniform(9);
      // The same population the baseline came from, passed as float64 (as an app holds it); devices round to float32.
      const fresh = Array.from({ length: 20_000 }, draw);
      const us = fresh.map((x) => pit(Math.fround(x), f.edges, f.pit, uniform));
      // KS critical value at α = 0.001 for n = 20,000 is 1.95/√n ≈ 0.0138; the baseline's own sampling adds as much again.
      expect(ksUniform(us)).toBeLessThan(0.02);
      const shares = f.shares!;
      const counts = new Array(shares.length).fill(0);
      // Values beyond the baseline's range (rare at 20,000 rows) count in the end bins, as effect sizes fold them.
      for (const x of fresh)
        counts[Math.min(Math.max(numericBin(Math.fround(x), f.edges) - 1, 0), shares.length - 1)]++;
      counts.forEach((c, b) => expect(Math.abs(c / fresh.length - shares[b]!)).toBeLessThan(0.015)); // bins are the baseline's own shares
    });
  }

  it('zero-inflated: the deterministic PIT puts every zero at u = 0; the randomized one spreads them over [0, F(0)]', () => {
    const values = Array.from({ length: 5000 }, shapes['zero-inflated (35 % zeros)']!);
    const f = numericBaseline('x', values);
    const zero = f.pit!.find((p) => p[0] === 0)!;
    expect(zero[1]).toBe(0);
    expect(zero[2]).toBeGreaterThan(0.3);
    const us = Array.from({ length: 1000 }, () => pit(0, f.edges, f.pit, seededUniform(1)));
    expect(Math.min(...us)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...us)).toBeLessThanOrEqual(zero[2]!);
    const spread = Array.from({ length: 1000 }, (_, i) => pit(0, f.edges, f.pit, () => (i + 0.5) / 1000));
    expect(spread.reduce((a, b) => a + b, 0) / 1000).toBeCloseTo(zero[2]! / 2, 3);
  });

  it('values outside the baseline range map to the ends; non-finite values are MISSING and skip the PIT', () => {
    const f = numericBaseline(
      'x',
      Array.from({ length: 1000 }, (_, i) => i),
    );
    // The lowest and highest rows are single values: the CDF passes through the middle of their steps.
    expect(pit(-5, f.edges, f.pit)).toBeLessThanOrEqual(0.5 / 1000);
    expect(pit(5000, f.edges, f.pit)).toBeGreaterThanOrEqual(1 - 0.5 / 1000);
    const s = sketchNumeric(
      [NaN, Infinity, -Infinity, ...Array.from({ length: 17 }, (_, i) => i * 50)],
      f.edges,
      f.pit,
    )!;
    expect(s.bins.at(-1)).toBe(Math.round((3 / 20) * 4096)); // 3 of 20 values missing
  });
});

describe('baseline builder', () => {
  it('records rows, missing share, bin shares that sum to 1 and atoms with their jumps', () => {
    const values = [...new Array(300).fill(0), ...Array.from({ length: 700 }, (_, i) => 1 + i / 7), NaN, Infinity];
    const f = numericBaseline('rain', values);
    expect(f.rows).toBe(1000);
    expect(f.missing).toBeCloseTo(2 / 1002, 12);
    expect(f.shares!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(f.shares![0]).toBeGreaterThanOrEqual(0.3); // the zeros' bin holds 30 %, not 1/B
    expect(f.pit!.find((p) => p[0] === 0)).toEqual([0, 0, 0.3]);
  });

  it('bad columns get coded errors: empty, too short, constant', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
        return null;
      } catch (e) {
        return e instanceof ProtocolError ? [e.code, e.message] : e;
      }
    };
    expect(code(() => numericBaseline('x', []))).toEqual(['bad_request', expect.stringContaining('no finite values')]);
    expect(code(() => numericBaseline('x', [NaN, NaN]))).toEqual([
      'bad_request',
      expect.stringContaining('no finite values'),
    ]);
    expect(code(() => numericBaseline('x', [1, 2, 3]))).toEqual([
      'bad_request',
      expect.stringContaining('at least 20'),
    ]);
    expect(code(() => numericBaseline('x', new Array(50).fill(7)))).toEqual([
      'bad_request',
      expect.stringContaining('is constant'),
    ]);
    expect(code(() => categoricalBaseline('c', [null, '', null]))).toEqual([
      'bad_request',
      expect.stringContaining('no values'),
    ]);
  });

  it('a categorical feature with 10,000 levels keeps the 64 most frequent; the rest is OTHER, on the device too', async () => {
    const uniform = seededUniform(3);
    const values = Array.from({ length: 50_000 }, () => `level-${Math.floor(uniform() ** 2 * 10_000)}`);
    const b = buildBaseline([{ name: 'c', kind: 'categorical' }], () => values, null);
    const f = b.features[0] as { vocabulary: string[]; frequencies: number[]; rows: number };
    expect(f.vocabulary).toHaveLength(64);
    expect(f.rows).toBe(50_000);
    expect(f.frequencies.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 12);
    expect(f.frequencies[64]).toBeGreaterThan(0.5); // OTHER carries the long tail
    const layout = await sketchLayout(b);
    expect(layout.features[0]!.bins).toBe(66);
    const s = sketchCategorical(['level-9999', 'never-seen', ...new Array(8).fill(f.vocabulary[0])], f.vocabulary)!;
    expect(s.bins[64]).toBe(Math.round((2 / 10) * 4096));
  });

  it('outputs: with labels, a reliability table whose weighted accuracy is the validation accuracy', () => {
    const uniform = seededUniform(4);
    const predictions = Array.from({ length: 2000 }, () => {
      const c = 0.5 + uniform() / 2;
      return [1 - c, c];
    });
    const labels = predictions.map((p) => (uniform() < 2 * p[1]! - 1 ? 1 : 0)); // over-confident
    const o = outputBaseline(predictions, labels);
    const r = o.reliability!;
    const total = r.counts.reduce((a, b) => a + b, 0);
    expect(total).toBe(2000);
    expect(r.accuracy.reduce((s, a, b) => s + (a * r.counts[b]!) / total, 0)).toBeCloseTo(r.validationAccuracy, 12);
    expect(r.validationAccuracy).toBeLessThan(0.6); // mean confidence would say 0.75
    expect(r.accuracy.at(-1)!).toBeGreaterThan(r.accuracy[0]!);
    expect(() => outputBaseline(predictions, labels.slice(1))).toThrow(/labels/);
  });
});
