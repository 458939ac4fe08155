/**
 * @module retrain/train
 * Trains the fraud network of examples/make-fraud-model.ts (12 → 16 relu → 1 sigmoid, Adam,
 * binary cross-entropy) on labelled rows, with the standardisation folded into the first layer
 * so devices keep sending raw features. TF.js on its CPU backend: no native build needed.
 *
 * @example
 * const { model, params } = await trainFraudModel(rows, { epochs: 10 });
 */
import * as tf from '@tensorflow/tfjs';
import type { Transaction } from '../demo/transactions.ts';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  hidden: number;
  seed: number;
}
export const DEFAULT_TRAIN: TrainOptions = { epochs: 15, batchSize: 128, learningRate: 0.01, hidden: 16, seed: 1 };

let ready: Promise<unknown> | undefined;
/** The CPU backend, once per process: deterministic and the same on every machine. */
export const useCpu = () => (ready ??= (tf.enableProdMode(), tf.setBackend('cpu')));

export async function trainFraudModel(
  rows: Transaction[],
  options: Partial<TrainOptions> = {},
): Promise<{ model: tf.Sequential; params: TrainOptions & { optimizer: 'adam'; rows: number } }> {
  await useCpu();
  const o = { ...DEFAULT_TRAIN, ...options };
  const width = rows[0]!.x.length;
  const mean = Array.from({ length: width }, (_, j) => rows.reduce((s, r) => s + r.x[j]!, 0) / rows.length);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + (r.x[j]! - m) ** 2, 0) / rows.length) || 1);

  // Layer names are the example's, so the challenger's io (hidden_input → fraud_probability) is the champion's.
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        name: 'hidden',
        units: o.hidden,
        inputShape: [width],
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed }),
      }),
      tf.layers.dense({
        name: 'fraud_probability',
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'binaryCrossentropy' });
  const xs = tf.tensor2d(rows.map((r) => r.x.map((v, j) => (v - mean[j]!) / std[j]!)));
  const ys = tf.tensor2d(rows.map((r) => [r.y]));
  try {
    await model.fit(xs, ys, { epochs: o.epochs, batchSize: o.batchSize, shuffle: false, verbose: 0 });
  } finally {
    xs.dispose();
    ys.dispose();
  }

  // Fold the standardisation into the first layer: W' = W / std, b' = b − Σ_j (mean_j / std_j)·W_j.
  const [W, b] = model.layers[0]!.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  const Wv = (await W.array()) as number[][];
  const bv = (await b.array()) as number[];
  model.layers[0]!.setWeights([
    tf.tensor2d(Wv.map((row, j) => row.map((w) => w / std[j]!))),
    tf.tensor1d(bv.map((bk, k) => bk - Wv.reduce((s, row, j) => s + (mean[j]! / std[j]!) * row[k]!, 0))),
  ]);
  return { model, params: { ...o, optimizer: 'adam', rows: rows.length } };
}
