import { describe, expect, it } from 'vitest';
import { chi2Survival, clipEigenvalues, normalCdf, normalQuantile, solveSpd } from './math.ts';

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
    expect(
      solveSpd(
        [
          [4, 2],
          [2, 3],
        ],
        [2, 1],
      )!.map((v) => +v.toFixed(12)),
    ).toEqual([0.5, 0]);
    expect(
      solveSpd(
        [
          [1, 1],
          [1, 1],
        ],
        [1, 1],
      ),
    ).toBeNull();
  });
  it('projects a symmetric matrix to PSD: PSD input unchanged, negative eigenvalues floored', () => {
    const spd = [
      [4, 2, 0],
      [2, 3, 1],
      [0, 1, 2],
    ];
    clipEigenvalues(spd, 0).forEach((r, i) => r.forEach((x, j) => expect(x).toBeCloseTo(spd[i]![j]!, 10)));
    // [[1, 2], [2, 1]] has eigenvalues 3 and −1 (vectors (1,1)/√2 and (1,−1)/√2): clipping gives 1.5·[[1,1],[1,1]].
    clipEigenvalues(
      [
        [1, 2],
        [2, 1],
      ],
      0,
    )
      .flat()
      .forEach((x) => expect(x).toBeCloseTo(1.5, 10));
    expect(
      solveSpd(
        clipEigenvalues(
          [
            [1, 2],
            [2, 1],
          ],
          0.1,
        ),
        [1, 1],
      ),
    ).not.toBeNull();
  });
});
