import { describe, expect, it } from 'vitest';
import { chi2Survival, normalCdf, normalQuantile, solveSpd } from './math.ts';

describe('drift math', () => {
  it('χ² survival matches closed forms and tables', () => {
    for (const x of [0.5, 3, 9.49, 20, 40]) expect(chi2Survival(x, 4)).toBeCloseTo(Math.exp(-x / 2) * (1 + x / 2), 12); // k = 4
    for (const x of [0.1, 2, 7]) expect(chi2Survival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12);
    expect(chi2Survival(16.919, 9)).toBeCloseTo(0.05, 4); // χ²₀.₉₅(9)
    expect(chi2Survival(21.666, 9)).toBeCloseTo(0.01, 4);
  });
  it('normal quantile inverts the CDF, tails included', () => {
    for (const p of [1e-9, 5e-4, 0.025, 0.5, 0.9, 0.99999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 10);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
  });
  it('solves symmetric positive-definite systems and flags singular ones', () => {
    expect(solveSpd([[4, 2], [2, 3]], [2, 1])!.map((v) => +v.toFixed(12))).toEqual([0.5, 0]);
    expect(solveSpd([[1, 1], [1, 1]], [1, 1])).toBeNull();
  });
});
