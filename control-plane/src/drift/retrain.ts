/**
 * @module drift/retrain
 * The retrain trigger (docs/architecture.md §7): asks for retraining when drift persists or is broad, not on
 * one noisy window. Reasons, any of which fires:
 *  - cusum: a one-sided CUSUM of window scores crossed h. A window's score is the z-value of its
 *    Bonferroni-adjusted smallest p (z = Φ⁻¹(1 − min(1, F·p_min))), so under no drift it is at
 *    most standard normal; C_t = max(0, C_{t−1} + z_t − k). With k = 0.5, h = 6 the in-control
 *    run length is years of daily windows, while a persistent excess of z ≈ 1.6 fires in about 6.
 *  - share: at least `share` of the features alarm in the same window;
 *  - prediction drift: the predicted-class mix or the confidence distribution alarmed;
 *  - accuracy: label-free estimated accuracy dropped by at least minAccuracyDrop (with
 *    significant confidence drift).
 * After a request the CUSUM restarts at 0, so one episode asks once.
 */
import type { DriftVerdict } from './detect.ts';
import { normalQuantile } from './math.ts';

export interface RetrainOptions {
  k: number;
  h: number;
  share: number;
}
export const DEFAULT_RETRAIN: RetrainOptions = { k: 0.5, h: 6, share: 0.25 };

export type RetrainReason = 'cusum' | 'share' | 'prediction_drift' | 'accuracy';

export interface RetrainDecision {
  score: number;
  cusum: number;
  reasons: RetrainReason[];
}

/** The window's drift score: z of the Bonferroni-adjusted smallest p-value over tested features. */
export function windowScore(verdict: DriftVerdict): number {
  const ps = verdict.features.map((f) => f.p).filter((p): p is number => p !== null);
  if (ps.length === 0) return 0;
  const adjusted = Math.min(1, Math.min(...ps) * ps.length);
  return Math.min(normalQuantile(1 - Math.max(adjusted, 1e-15)), 8); // capped: one extreme window cannot carry the sum alone
}

export function retrainDecision(
  previousCusum: number,
  verdict: DriftVerdict,
  options: RetrainOptions = DEFAULT_RETRAIN,
): RetrainDecision {
  const score = windowScore(verdict);
  const cusum = Math.max(0, previousCusum + score - options.k);
  const reasons: RetrainReason[] = [];
  if (cusum > options.h) reasons.push('cusum');
  const tested = verdict.features.filter((f) => f.p !== null);
  if (tested.length > 0 && tested.filter((f) => f.alarm).length / tested.length >= options.share) reasons.push('share');
  if (verdict.outputs?.predictionDrift) reasons.push('prediction_drift');
  if (verdict.outputs?.accuracyAlarm) reasons.push('accuracy');
  return { score, cusum: reasons.length > 0 ? 0 : cusum, reasons };
}
