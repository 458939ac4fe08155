/**
 * @module drift/privacy
 * Central differential privacy for released aggregates: the Gaussian mechanism accounted in
 * zero-concentrated DP (Bun & Steinke 2016). A release with noise σ on sums of L2 sensitivity Δ
 * costs ρ = Δ²/(2σ²); ρ adds up across releases; (ε, δ) follows from ρ by ε = ρ + 2√(ρ ln 1/δ).
 * The noise actually added is the discrete Gaussian on the integer sums (protocol
 * discrete-gaussian.ts), for which the same ρ holds (Canonne, Kamath & Steinke 2020, Thm 4).
 *
 * Everything a window releases is noised: bin sums and bin-square sums (categorical tests,
 * effect sizes), Legendre component sums (the smooth test) and their second moments (its
 * variance). The daily ρ is split between these groups; the split favours the component sums,
 * whose precision decides the smooth test's power.
 */
import type { ReleaseNoise, SketchLayout } from '@modelfleet/protocol';

/** δ of every release's (ε, δ) statement (drift/close.ts re-exports it). */
export const DELTA = 1e-6;

/** The ρ whose (ε, δ) conversion equals `epsilon`. */
export function rhoFor(epsilon: number, delta: number): number {
  const L = Math.log(1 / delta);
  return (Math.sqrt(L + epsilon) - Math.sqrt(L)) ** 2;
}

export function epsilonFor(rho: number, delta: number): number {
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/** Shares of the daily ρ per released group (renormalised over the groups a layout has). */
export const BUDGET_SPLIT: ReleaseNoise = {
  components: 0.5,
  componentProducts: 0.25,
  numericBins: 0.05,
  categoricalBins: 0.15,
  categoricalSquares: 0.05,
};

type Group = Exclude<keyof ReleaseNoise, 'withheld'>;
const GROUPS = Object.keys(BUDGET_SPLIT) as Group[];

/**
 * Squared L2 sensitivity of one device's contribution to each group, in normalised units: a
 * device adds, per feature, a bin vector with L1 = 1 (so L2 ≤ 1, and its squares L2 ≤ 1) and,
 * per numeric feature, a component vector clipped to L2 ≤ 1 (so ‖ggᵀ‖_F ≤ 1).
 */
export function sensitivities(layout: SketchLayout, withheld: readonly number[] = []): ReleaseNoise {
  const released = layout.features.filter((_, i) => !withheld.includes(i));
  const numeric = released.filter((f) => f.components > 0).length;
  const categorical = released.length - numeric;
  return {
    components: numeric,
    componentProducts: numeric,
    numericBins: numeric,
    categoricalBins: categorical,
    categoricalSquares: categorical,
  };
}

/**
 * Share of the daily budget that goes to health records when a version has both a monitoring
 * baseline and health data; the drift release gets the rest. A device contributes to both, so
 * both spends count against its ε per day.
 */
export const HEALTH_SHARE = 0.1;

/** Noise σ per group that together spend `epsilon` (at `delta`) on one release. */
export function releaseNoise(layout: SketchLayout, epsilon: number, delta: number): ReleaseNoise {
  return releaseNoiseForRho(layout, rhoFor(epsilon, delta));
}

/**
 * Health records need only their bin shares (outcome mixes, the latency histogram): the rest of
 * their layout is withheld, so the whole health budget sharpens what is read.
 */
export const HEALTH_SPLIT: ReleaseNoise = {
  components: 0,
  componentProducts: 0,
  numericBins: 0.25,
  categoricalBins: 0.75,
  categoricalSquares: 0,
};

/**
 * Noise σ per group that together spend `rho` (zCDP) on one release. A group with no share is
 * withheld: σ = ∞, which addReleaseNoise turns into zeros (and which spends nothing).
 */
export function releaseNoiseForRho(
  layout: SketchLayout,
  rho: number,
  split: ReleaseNoise = BUDGET_SPLIT,
  withheld: readonly number[] = [],
): ReleaseNoise {
  const d2 = sensitivities(layout, withheld);
  const share = GROUPS.reduce((s, g) => s + (d2[g] > 0 ? split[g] : 0), 0);
  const out: ReleaseNoise = {
    components: 0,
    componentProducts: 0,
    numericBins: 0,
    categoricalBins: 0,
    categoricalSquares: 0,
    ...(withheld.length ? { withheld: [...withheld] } : {}),
  };
  for (const g of GROUPS) {
    if (d2[g] > 0) out[g] = split[g] > 0 ? Math.sqrt(d2[g] / (2 * rho * (split[g] / share))) : Infinity;
  }
  return out;
}

/** ρ actually spent by a release with these σ (the ledger records it). */
export function rhoSpent(layout: SketchLayout, noise: ReleaseNoise): number {
  const d2 = sensitivities(layout, noise.withheld);
  return GROUPS.reduce((s, g) => s + (d2[g] > 0 && Number.isFinite(noise[g]) ? d2[g] / (2 * noise[g] ** 2) : 0), 0);
}
