/**
 * @module drift/smooth-test
 * Device-level Neyman smooth test on K Legendre components of the PIT (docs/architecture.md §7): each device
 * contributes the mean of P_k(F0(x)) over its values; under "no drift" the fleet mean of those
 * vectors is 0. Using the across-device covariance makes the test cluster-robust — a device
 * whose users differ from the average counts once, not once per value — and the DP noise on the
 * released sums enters the covariance exactly, so the χ²_K reference stays calibrated.
 */
import { MAX_SAMPLES } from '@modelfleet/protocol';
import { chi2Survival, clipEigenvalues, solveSpd } from './math.ts';

export interface SmoothTestInput {
  devices: number;
  /** Σ over devices of the K component means (normalised to [−1, 1]; may carry DP noise). */
  sumComponents: number[];
  /** Σ over devices of g gᵀ, upper triangle row by row (normalised). */
  sumComponentProducts: number[];
  /** σ of the DP noise on each coordinate of sumComponents (0 without noise). */
  noiseSigma: number;
  /** σ of the DP noise on each coordinate of sumComponentProducts (0 without noise). */
  productsNoiseSigma?: number;
  /**
   * Training rows behind the PIT table (absent: exact). Devices map values through the
   * baseline's empirical CDF, not the population's, so the fleet mean of P_k carries the
   * baseline's own sampling error, Var = 1/((2k+1)·n) — the two-sample form of the test.
   */
  baselineRows?: number;
}

export interface SmoothTestResult {
  statistic: number;
  p: number;
  /** Fleet mean of the components. */
  mean: number[];
  /** √π·‖mean‖: the location shift in baseline σ it equals for a normal baseline (first order). */
  sigmaShift: number;
}

/** n × E[P_k(F̂ₙ(X))] under the null, k = 1…4 (see smoothTest). */
const PLUGIN_BIAS = [0, 1, 0, 0.6];

export function smoothTest(input: SmoothTestInput): SmoothTestResult | null {
  const N = input.devices;
  const K = input.sumComponents.length;
  if (N < K + 2 || K === 0) return null;
  // A plug-in CDF from n rows makes fresh values' u slightly over-dispersed: E[P_k(F̂ₙ(X))] ≈ c_k/n
  // for even k (second order; 1/n in theory for the step CDF, 0.6/n for k = 4 with the interpolated
  // table — measured over normal, integer and rounded data by simulation). Removing it
  // keeps a 100-row baseline near its nominal false-alarm rate.
  const rows = input.baselineRows ?? Infinity;
  const mean = input.sumComponents.map((s, k) => s / N - (Number.isFinite(rows) ? (PLUGIN_BIAS[k] ?? 0) / rows : 0));
  // Score-test form: the device covariance under "no drift" (mean 0) is E[g gᵀ], estimated by
  // Σggᵀ/N. Unlike the covariance about the (noisy) released mean it is PSD before noise and
  // keeps the test calibrated when it matters — under the null. The released Σggᵀ carries DP
  // noise of its own (σ_P/N per entry of M): M is projected back to PSD (with the floor below),
  // and one σ_P/N more on the diagonal keeps the test conservative for that noise.
  const M: number[][] = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let p = 0;
  for (let k = 0; k < K; k++) {
    for (let l = k; l < K; l++) {
      const m2 = input.sumComponentProducts[p++]! / N;
      M[k]![l] = m2;
      M[l]![k] = m2;
    }
  }
  const sigmaP = input.productsNoiseSigma ?? 0;
  // Under the null a device's mean of P_k over at most MAX_SAMPLES independent values varies at
  // least 1/((2k+1)·MAX_SAMPLES), so no eigenvalue of M is below 1/((2K+1)·MAX_SAMPLES): flooring
  // there changes nothing under the null, and keeps M invertible when devices sent identical
  // sketches or DP noise tipped it.
  const psd = clipEigenvalues(M, 1 / ((2 * K + 1) * MAX_SAMPLES));
  // Cov(mean) = M/N + σ²/N² I (+ the allowance for noise in M).
  const n = rows;
  const cov = psd.map((row, k) =>
    row.map((m, l) => m / N + (k === l ? (input.noiseSigma / N) ** 2 + sigmaP / N ** 2 + 1 / ((2 * k + 3) * n) : 0)),
  );
  const x = solveSpd(cov, mean);
  if (!x) return null;
  const statistic = mean.reduce((s, m, k) => s + m * x[k]!, 0);
  // E[P1(F0(X + δ))] = δ/√π for a standard normal F0, to first order; other components add shape changes.
  const norm = Math.sqrt(mean.reduce((s, m) => s + m * m, 0));
  return { statistic, p: chi2Survival(statistic, K), mean, sigmaShift: Math.sqrt(Math.PI) * norm };
}
