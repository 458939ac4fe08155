/**
 * @module drift/rao-scott
 * Device-level Rao–Scott (first-order) χ² for a categorical feature. Each device sends its
 * category fractions h (L1 = 1); the fleet mean p̂ = Σh/N is compared with the training
 * frequencies p₀. Devices whose users differ from the average make p̂ vary more than a pooled
 * multinomial would, so the Pearson form is divided by the mean design effect, estimated from
 * the released Σh² — the same cluster-robust idea as the smooth test, with diagonal variances
 * (all the sketch keeps). DP noise on Σh and Σh² and the baseline's own sampling error
 * (p₀ⱼ(1 − p₀ⱼ)/n from n training rows) enter the variances.
 *
 *   X² = (C − 1) · Σⱼ (p̂ⱼ − p₀ⱼ)²/p₀ⱼ  /  Σⱼ Vⱼ/p₀ⱼ,   X² ~ χ²_{C−1} under H₀   (cells with p₀ⱼ > 0)
 *
 * Cells training never saw (p₀ⱼ = 0: usually OTHER and MISSING) cannot enter that sum — dividing by
 * a floored p₀ made their DP noise swamp the test. They are pooled into one "unseen" cell and
 * tested apart, one-sided, as a two-sample comparison of its share with the baseline's zero (the
 * pooled share's binomial variance over n rows stands in for what the baseline could have missed).
 * The feature's p is the Bonferroni combination of the two.
 */
import { chi2Survival, normalCdf } from './math.ts';

export interface RaoScottInput {
  devices: number;
  /** Σ over devices of the category fractions (normalised: each device's sum to 1; may carry noise). */
  sumFractions: number[];
  /** Σ over devices of the squared fractions, per category (normalised). */
  sumSquares: number[];
  expected: number[];
  /** DP noise σ on each coordinate of sumFractions and of sumSquares. */
  noise: { fractions: number; squares: number };
  /** Training rows behind `expected` (absent: exact). */
  baselineRows?: number;
}

export interface RaoScottResult {
  statistic: number;
  p: number;
  designEffect: number;
  observed: number[];
  /** The pooled share of categories training never saw, and its one-sided p (null when every cell was seen). */
  unseen: { share: number; p: number } | null;
}

export function raoScott(input: RaoScottInput): RaoScottResult | null {
  const N = input.devices;
  const n = input.baselineRows ?? Infinity;
  const observed = input.sumFractions.map((s) => s / N);
  const seen = input.expected.map((_, j) => j).filter((j) => input.expected[j]! > 0);
  if (N < 2 || seen.length < 1) return null;
  const noiseVar = (input.noise.fractions / N) ** 2 + input.noise.squares / N ** 2;
  // Score form under H₀ (mean p₀): Var(hⱼ) = E[hⱼ²] − p₀ⱼ², floored at 0 where noise pushed it below.
  const deviceVar = (j: number, mean: number) => Math.max(input.sumSquares[j]! / N - mean ** 2, 0) / N;
  let pearson = 0;
  let scaledVar = 0;
  let srsVar = 0;
  for (const j of seen) {
    const p0 = input.expected[j]!;
    pearson += (observed[j]! - p0) ** 2 / p0;
    scaledVar += (deviceVar(j, p0) + noiseVar + (Number.isFinite(n) ? (p0 * (1 - p0)) / n : 0)) / p0;
    srsVar += (1 - p0) / N; // one multinomial draw per device, for the design effect shown
  }
  const C = seen.length;
  const chi =
    C >= 2 && scaledVar > 0
      ? { statistic: ((C - 1) * pearson) / scaledVar, p: chi2Survival(((C - 1) * pearson) / scaledVar, C - 1) }
      : null;
  const unseenCells = input.expected.map((_, j) => j).filter((j) => !(input.expected[j]! > 0));
  let unseen: RaoScottResult['unseen'] = null;
  if (unseenCells.length > 0) {
    const share = unseenCells.reduce((s, j) => s + observed[j]!, 0);
    const pooled = Math.max(share, 0) * (Number.isFinite(n) ? N / (N + n) : 1);
    const v =
      unseenCells.reduce((s, j) => s + deviceVar(j, 0) + noiseVar, 0) +
      (Number.isFinite(n) ? (pooled * (1 - pooled)) / n : 0);
    unseen = { share, p: v > 0 ? normalCdf(-share / Math.sqrt(v)) : share > 0 ? 0 : 1 };
  }
  if (!chi && !unseen) return null;
  const parts = [chi?.p, unseen?.p].filter((p): p is number => p !== undefined);
  const p = Math.min(1, parts.length * Math.min(...parts));
  return { statistic: chi?.statistic ?? 0, p, designEffect: srsVar > 0 ? scaledVar / srsVar : 1, observed, unseen };
}
