/**
 * @module evaluate/metrics
 * Accuracy and log loss of a classifier's outputs against labels. Pure, so the same numbers
 * come out in workerd and in a test's Node process.
 *
 * A row's prediction is its top output (the first one on a tie). A single output is read as
 * P(class 1) of a sigmoid, i.e. the outputs [1 − p, p]. Log loss is the mean of −ln p(label),
 * with p clipped to [1e-7, 1 − 1e-7] as Keras and TF.js losses do; it is null unless every row
 * looks like probabilities (each value in [0, 1], and for two or more outputs a row sum within
 * 1e-3 of 1), because −ln of a logit or a score means nothing.
 *
 * @example
 * const m = classifierMetrics(new Float32Array([0.2, 0.8, 0.9, 0.1]), 2, [1, 1]);
 * // { accuracy: 0.5, logLoss: (−ln 0.8 − ln 0.1) / 2, rows: 2, correct: 1, classes: 2 }
 */
import type { EvalMetrics } from '@modelfleet/protocol';

export const LOG_LOSS_EPSILON = 1e-7;
const SUM_TOLERANCE = 1e-3;

/** Classes a classifier with `width` outputs per row distinguishes. */
export const classesOf = (width: number) => (width === 1 ? 2 : width);

/** `values` holds `width` outputs per row; `labels` must lie in 0 … classesOf(width) − 1 (checked by the caller). */
export function classifierMetrics(values: ArrayLike<number>, width: number, labels: readonly number[]): EvalMetrics {
  const rows = labels.length;
  let correct = 0;
  let loss = 0;
  let probabilities = true;
  const clip = (p: number) => Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p));
  for (let r = 0; r < rows; r++) {
    const label = labels[r]!;
    if (width === 1) {
      const p = values[r]!;
      if ((p > 0.5 ? 1 : 0) === label) correct++;
      if (!(p >= 0 && p <= 1)) probabilities = false;
      else loss -= Math.log(clip(label === 1 ? p : 1 - p));
      continue;
    }
    const base = r * width;
    let top = 0;
    let sum = 0;
    for (let k = 0; k < width; k++) {
      const v = values[base + k]!;
      if (v > values[base + top]! || Number.isNaN(values[base + top]!)) top = k;
      if (!(v >= 0 && v <= 1)) probabilities = false;
      sum += v;
    }
    if (top === label) correct++;
    if (!(Math.abs(sum - 1) <= SUM_TOLERANCE)) probabilities = false;
    if (probabilities) loss -= Math.log(clip(values[base + label]!));
  }
  return {
    accuracy: correct / rows,
    logLoss: probabilities ? loss / rows : null,
    rows,
    correct,
    classes: classesOf(width),
  };
}
