/**
 * @module verdict-types
 * The options a drift test runs with and what it says per feature: read by detect.ts, which runs
 * the tests, and accuracy.ts, which detect.ts calls on the output features.
 */
import type { ReleaseNoise } from '@modelfleet/protocol';
import type { Interval, ShiftEstimate } from './effects.ts';

export interface DetectOptions {
  familyAlpha: number;
  /** Minimum implied location shift, in baseline σ, for a numeric alarm. */
  minSigmaShift: number;
  /** Minimum largest change of a category's (or the missing) share (L∞) for a categorical alarm. */
  minCategoryShift: number;
  /** Drop of the calibrated label-free (or label-based) accuracy that asks for retraining. */
  minAccuracyDrop: number;
  minDevices: number;
  /** DP noise σ per released group (normalised units). */
  noise: ReleaseNoise;
}

export interface FeatureEffects {
  /** √π·‖mean Legendre components‖: shape change on the smooth test's scale (capped at √π by the device clip; the floor reads it). */
  sigmaShift: number | null;
  /** Signed location shift in baseline normal-score units (numeric), with its 95 % interval. */
  location?: ShiftEstimate | null;
  /** Spread ratio fleet/baseline (numeric), when the fit can tell. */
  scale?: Interval | null;
  /** Noise-aware PSI and Jensen–Shannon (bias under no drift removed). */
  psi: number;
  js: number;
  psiInterval?: [number, number];
  jsInterval?: [number, number];
  linf: number;
}

export interface FeatureVerdict {
  name: string;
  test: 'smooth' | 'rao-scott' | 'none';
  devices: number;
  statistic: number | null;
  p: number | null;
  effects: FeatureEffects;
  /** The released (noised) bin shares beside the baseline's, for charts: already public, no extra budget. */
  bins: { labels: string[]; observed: number[]; expected: number[] };
  /** Share of values that were missing or non-finite (NaN, ±Infinity), fleet vs baseline (numeric with a recorded baseline share). */
  missing?: { observed: number; expected: number; p: number } | null;
  alarm: boolean;
}
