/**
 * @module retrain/evaluate
 * Scores a model on labelled rows: accuracy at 0.5 and ROC AUC (the Mann–Whitney statistic, ties
 * counted half), the two numbers metrics.json carries; and the digest of an evaluation set as the
 * control plane computes it (protocol canonicalEvalSet), so the publisher's metrics, the
 * explanations and the server's evaluations all name the same set.
 *
 * @example
 * const m = await evaluate(model, rows); // { auc: 0.81, accuracy: 0.87 }
 */
import { canonicalEvalSet, sha256Hex } from '@modelfleet/protocol';
import * as tf from '@tensorflow/tfjs';
import type { Transaction } from '../demo/transactions.ts';

export interface Scores {
  auc: number;
  accuracy: number;
}
export type MetricName = keyof Scores;

/** The model's fraud probability for each row. */
export async function predict(model: tf.LayersModel, xs: number[][]): Promise<Float32Array> {
  const input = tf.tensor2d(xs);
  const out = model.predict(input) as tf.Tensor;
  try {
    return (await out.data()) as Float32Array;
  } finally {
    input.dispose();
    out.dispose();
  }
}

export function accuracy(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < y.length; i++) if ((p[i]! > 0.5 ? 1 : 0) === y[i]) correct++;
  return correct / y.length;
}

/** P(score of a random positive > score of a random negative), from ranks: O(n log n). */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => p[a]! - p[b]!);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && p[order[j + 1]!] === p[order[i]!]) j++;
    const rank = (i + j) / 2 + 1; // tied scores share their mean rank
    for (let k = i; k <= j; k++) if (y[order[k]!] === 1) (rankSum += rank), positives++;
    i = j + 1;
  }
  const negatives = y.length - positives;
  return positives && negatives ? (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives) : 0.5;
}

export function score(p: ArrayLike<number>, y: ArrayLike<number>): Scores {
  return { auc: auc(p, y), accuracy: accuracy(p, y) };
}

export async function evaluate(model: tf.LayersModel, rows: Transaction[]): Promise<Scores> {
  return score(
    await predict(
      model,
      rows.map((r) => r.x),
    ),
    rows.map((r) => r.y),
  );
}

/** Four decimals, as examples/fraud-model/metrics.json writes them. */
export const rounded = (s: Scores): Scores => ({
  auc: Math.round(s.auc * 1e4) / 1e4,
  accuracy: Math.round(s.accuracy * 1e4) / 1e4,
});

/** The control plane's digest of these rows as an evaluation set (PUT …/eval-set answers the same). */
export const evalSetDigest = (rows: Transaction[]) => sha256Hex(canonicalEvalSet(evalSetBody(rows)));
export const evalSetBody = (rows: Transaction[]) => ({ inputs: rows.map((r) => r.x), labels: rows.map((r) => r.y) });
