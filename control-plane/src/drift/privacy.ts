/**
 * @module drift/privacy
 * Central differential privacy for released aggregates: the Gaussian mechanism accounted in
 * zero-concentrated DP (Bun & Steinke 2016). A release with noise σ on sums of L2 sensitivity Δ
 * costs ρ = Δ²/(2σ²); ρ adds up across releases; (ε, δ) follows from ρ by ε = ρ + 2√(ρ ln 1/δ).
 */
import { COMPONENT_CLIP, COMPONENT_SCALE, type SketchLayout } from '@modelfleet/protocol';

/** The ρ whose (ε, δ) conversion equals `epsilon`. */
export function rhoFor(epsilon: number, delta: number): number {
  const L = Math.log(1 / delta);
  return (Math.sqrt(L + epsilon) - Math.sqrt(L)) ** 2;
}

export function epsilonFor(rho: number, delta: number): number {
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/**
 * L2 sensitivity of one device's daily release, in normalised units: the clipped Legendre
 * component sums of every numeric feature (L2 ≤ 1 each after COMPONENT_CLIP). Bin histograms
 * (L2 ≤ 1 per feature) are the input of effect sizes and categorical tests and are released on
 * their own budget.
 */
export function sensitivity(layout: SketchLayout): number {
  const clip = COMPONENT_CLIP / COMPONENT_SCALE;
  return Math.sqrt(layout.features.reduce((s, f) => s + (f.components > 0 ? clip * clip : 0), 0));
}

/** Noise σ (normalised units, per coordinate of the sums) that spends `epsilon` per release. */
export function noiseSigma(layout: SketchLayout, epsilon: number, delta: number): number {
  return sensitivity(layout) / Math.sqrt(2 * rhoFor(epsilon, delta));
}
