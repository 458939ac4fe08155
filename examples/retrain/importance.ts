/**
 * @module retrain/importance
 * Permutation importance (Breiman 2001; Fisher, Rudin & Dominici 2019): how much a metric drops
 * when one feature's column is shuffled across the evaluation rows, breaking its link to the
 * label while keeping its distribution. Larger = the model leans on the feature more; near zero
 * or negative = it does not use it. The shape is the manifest's agreed `metrics.explanations`.
 *
 * @example
 * const explanations = await permutationImportance(model, rows, FEATURES, { digest, seed: 7 });
 */
import type * as tf from '@tensorflow/tfjs';
import { seededRandom, type Transaction } from '../demo/transactions.ts';
import { type MetricName, predict, score } from './evaluate.ts';

export interface Explanations {
  method: 'permutation';
  metric: MetricName;
  evalSetDigest: string;
  features: Record<string, number>;
}

export async function permutationImportance(
  model: tf.LayersModel,
  rows: Transaction[],
  features: readonly string[],
  o: { digest: string; metric?: MetricName; seed?: number; repeats?: number },
): Promise<Explanations> {
  const metric = o.metric ?? 'auc';
  const rand = seededRandom(o.seed ?? 1);
  const xs = rows.map((r) => r.x);
  const ys = rows.map((r) => r.y);
  const reference = score(await predict(model, xs), ys)[metric];
  const out: Record<string, number> = {};
  for (const [j, name] of features.entries()) {
    let drop = 0;
    // A few shuffles average out one unlucky permutation.
    for (let k = 0; k < (o.repeats ?? 3); k++) {
      const column = xs.map((x) => x[j]!);
      for (let i = column.length - 1; i > 0; i--) {
        const s = Math.floor(rand() * (i + 1));
        [column[i], column[s]] = [column[s]!, column[i]!];
      }
      drop +=
        reference -
        score(
          await predict(
            model,
            xs.map((x, i) => x.with(j, column[i]!)),
          ),
          ys,
        )[metric];
    }
    out[name] = Math.round((drop / (o.repeats ?? 3)) * 1e4) / 1e4;
  }
  return { method: 'permutation', metric, evalSetDigest: o.digest, features: out };
}
