/**
 * @module drift-real/model
 * A small classifier trained in Node on a data set's baseline rows, as its owner would train one:
 * standardisation (a frozen dense layer: x ↦ (x − mean)/sd, so raw inputs — grams, dollars,
 * codes — go in as the app has them) → dense(8, relu) → dense(classes, softmax). Seeded
 * initialisers and no shuffling, so the same rows give the same weights. Its accuracy does not
 * matter here; what matters is that devices run it on real inputs and sketch real outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { type ModelArtifacts, saveLayers } from '../fixtures/models.ts';

export interface Trained {
  artifacts: ModelArtifacts /** The model's softmax on every training row (the validation predictions of the baseline). */;
  predictions: number[][];
}

export async function trainModel(rows: number[][], labels: number[], classes: number, seed = 14): Promise<Trained> {
  const width = rows[0]!.length;
  const mean = Array.from({ length: width }, (_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
  const sd = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / rows.length) || 1);
  const kernel = tf.tensor2d(
    Array.from({ length: width }, (_, i) => Array.from({ length: width }, (_, j) => (i === j ? 1 / sd[i]! : 0))),
  );
  const bias = tf.tensor1d(mean.map((m, j) => -m / sd[j]!));
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        name: 'standardise',
        units: width,
        inputShape: [width],
        weights: [kernel, bias],
        trainable: false,
      }),
      tf.layers.dense({
        name: 'hidden',
        units: 8,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        name: 'out',
        units: classes,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.02), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor2d(rows);
  const y = tf.tensor1d(labels, 'float32');
  await model.fit(x, y, { epochs: 30, batchSize: 32, shuffle: false, verbose: 0 });
  const out = model.predict(x) as tf.Tensor;
  const predictions = (await out.array()) as number[][];
  const artifacts = await saveLayers(model);
  tf.dispose([kernel, bias, x, y, out]);
  model.dispose();
  return { artifacts, predictions };
}
