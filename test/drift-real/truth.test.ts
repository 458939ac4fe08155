// The independent truth of the calibration suite is only as good as its tests: textbook values
// for the χ² survival function, and KS / χ² / direction on samples whose answer is known.
import { expect, it } from 'vitest';
import { chi2Homogeneity, chi2Survival, direction, ksTwoSample } from './truth.ts';

it('χ² survival matches tables', () => {
  expect(chi2Survival(3.841459, 1)).toBeCloseTo(0.05, 5);
  expect(chi2Survival(9.487729, 4)).toBeCloseTo(0.05, 5);
  expect(chi2Survival(23.209251, 10)).toBeCloseTo(0.01, 5);
  expect(chi2Survival(0.5, 3)).toBeCloseTo(0.918891, 5);
  expect(chi2Survival(200, 4)).toBeLessThan(1e-40);
});

it('KS: identical samples do not differ, disjoint ones do, and D is the largest CDF gap', () => {
  const a = Array.from({ length: 100 }, (_, i) => i);
  expect(ksTwoSample(a, a)).toEqual({ d: 0, p: 1 });
  const far = ksTwoSample(
    a,
    a.map((x) => x + 1000),
  );
  expect(far.d).toBe(1);
  expect(far.p).toBeLessThan(1e-20);
  // Half of b lies above all of a: D = 0.5. Asymptotic p for n = m = 100: Q(≈3.55·… ) ≈ 1e-10 order.
  const half = ksTwoSample(a, [...a.slice(0, 50), ...a.slice(0, 50).map((x) => x + 1000)]);
  expect(half.d).toBeCloseTo(0.5, 10);
  expect(half.p).toBeLessThan(1e-8);
  expect(half.p).toBeGreaterThan(1e-14);
});

it('χ² of homogeneity: equal mixes give p = 1, a swapped mix a tiny p', () => {
  const mix = [...'aaaabbbccd'];
  expect(chi2Homogeneity(mix, mix).p).toBeCloseTo(1, 10);
  const swapped = chi2Homogeneity([...'a'.repeat(80), ...'b'.repeat(20)], [...'a'.repeat(20), ...'b'.repeat(80)]);
  expect(swapped.df).toBe(1);
  expect(swapped.statistic).toBeCloseTo(72, 6); // (4 cells × 30²/50)
  expect(swapped.p).toBeLessThan(1e-15);
});

it('direction: + when the shifted values are larger, − when smaller, 0 for the same values', () => {
  const a = [1, 2, 3, 4, 5];
  expect(direction(a, a)).toBe(0);
  expect(
    direction(
      a,
      a.map((x) => x + 10),
    ),
  ).toBe(0.5);
  expect(
    direction(
      a,
      a.map((x) => x - 10),
    ),
  ).toBe(-0.5);
});
