/**
 * @module drift/rao-scott
 * Device-level Rao–Scott (first-order) χ² for a categorical feature (DESIGN §7). Each device
 * sends its category fractions h (L1 = 1); the fleet mean p̂ = Σh/N is compared with the training
 * frequencies p₀. Devices whose users differ from the average make p̂ vary more than a pooled
 * multinomial would, so the Pearson form is divided by the mean design effect, estimated from
 * the released Σh² — the same cluster-robust idea as the smooth test, with diagonal variances
 * (all the sketch keeps). DP noise on Σh and Σh² enters the variances.
 *
 *   X² = (C − 1) · Σⱼ (p̂ⱼ − p₀ⱼ)²/p₀ⱼ  /  Σⱼ Vⱼ/p₀ⱼ,   Vⱼ = Var(p̂ⱼ),   X² ~ χ²_{C−1} under H₀
 */
import { chi2Survival } from './math.ts';

export interface RaoScottInput {
  devices: number;
  /** Σ over devices of the category fractions (normalised: each device's sum to 1; may carry noise). */
  sumFractions: number[];
  /** Σ over devices of the squared fractions, per category (normalised). */
  sumSquares: number[];
  expected: number[];
  /** DP noise σ on each coordinate of sumFractions and of sumSquares. */
  noise: { fractions: number; squares: number };
}

export interface RaoScottResult { statistic: number; p: number; designEffect: number; observed: number[] }

const FLOOR = 1e-4; // a category never seen in training still gets a finite expected share

export function raoScott(input: RaoScottInput): RaoScottResult | null {
  const N = input.devices;
  const C = input.expected.length;
  if (N < 2 || C < 2) return null;
  const p0 = input.expected.map((x) => Math.max(x, FLOOR));
  const observed = input.sumFractions.map((s) => s / N);
  let pearson = 0;
  let scaledVar = 0;
  let srsVar = 0;
  for (let j = 0; j < C; j++) {
    pearson += (observed[j]! - p0[j]!) ** 2 / p0[j]!;
    // Score form under H₀ (mean p₀): Var(hⱼ) = E[hⱼ²] − p₀ⱼ², floored at 0 where noise pushed it below.
    const deviceVar = Math.max(input.sumSquares[j]! / N - p0[j]! ** 2, 0);
    const v = deviceVar / N + (input.noise.fractions / N) ** 2 + input.noise.squares / N ** 2;
    scaledVar += v / p0[j]!;
    srsVar += (1 - p0[j]!) / N; // one multinomial draw per device, for the design effect shown
  }
  if (scaledVar <= 0) return null;
  const statistic = ((C - 1) * pearson) / scaledVar;
  return { statistic, p: chi2Survival(statistic, C - 1), designEffect: scaledVar / srsVar, observed };
}
