/**
 * Regenerates examples/fraud-model/: a small card-fraud classifier trained on synthetic,
 * seeded transactions, with its metrics, golden examples, monitoring baseline and lineage.
 *   node --import tsx examples/make-fraud-model.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBaseline } from '@modelfleet/protocol';
import * as tf from '@tensorflow/tfjs';
import { FEATURES, transactions } from './demo/transactions.ts';

tf.enableProdMode();
await tf.setBackend('cpu');

const OUT = join(import.meta.dirname, 'fraud-model');
// The seeded transaction generator (examples/demo/transactions.ts, regime 'before'): 4,000
// training rows, then 1,000 evaluation rows from the same stream.
const SEED = 20260401;
const rows = transactions(5000, { seed: SEED, regime: 'before' });
const train = rows.slice(0, 4000);
const evalSet = rows.slice(4000);
const csv = (rows: typeof train) =>
  [FEATURES.join(',') + ',label', ...rows.map((r) => [...r.x, r.y].join(','))].join('\n');
const digest = (s: string) => createHash('sha256').update(s).digest('hex');

// Standardise inside the model (a fixed affine layer) so devices send raw features.
const mean = FEATURES.map((_, j) => train.reduce((s, r) => s + r.x[j]!, 0) / train.length);
const std = FEATURES.map(
  (_, j) => Math.sqrt(train.reduce((s, r) => s + (r.x[j]! - mean[j]!) ** 2, 0) / train.length) || 1,
);
const standardise = (x: number[]) => x.map((v, j) => (v - mean[j]!) / std[j]!);

const model = tf.sequential({
  layers: [
    tf.layers.dense({
      name: 'hidden',
      units: 16,
      inputShape: [FEATURES.length],
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
    tf.layers.dense({
      name: 'fraud_probability',
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' });
const xs = tf.tensor2d(train.map((r) => standardise(r.x)));
const ys = tf.tensor2d(train.map((r) => [r.y]));
await model.fit(xs, ys, { epochs: 15, batchSize: 128, shuffle: false, verbose: 0 });

// Fold the standardisation into the first layer's weights: W' = W / std, b' = b − (mean/std)·W.
const [W, b] = model.layers[0]!.getWeights() as [tf.Tensor2D, tf.Tensor1D];
const Wv = (await W.array()) as number[][];
const bv = (await b.array()) as number[];
const W2 = Wv.map((row, j) => row.map((w) => w / std[j]!));
const b2 = bv.map((bk, k) => bk - FEATURES.reduce((s, _, j) => s + (mean[j]! / std[j]!) * Wv[j]![k]!, 0));
model.layers[0]!.setWeights([tf.tensor2d(W2), tf.tensor1d(b2)]);

const scores = (await (model.predict(tf.tensor2d(evalSet.map((r) => r.x))) as tf.Tensor).data()) as Float32Array;
const accuracy = evalSet.filter((r, i) => (scores[i]! > 0.5 ? 1 : 0) === r.y).length / evalSet.length;
const pos = evalSet.flatMap((r, i) => (r.y ? [scores[i]!] : []));
const neg = evalSet.flatMap((r, i) => (r.y ? [] : [scores[i]!]));
const auc =
  pos.reduce((s, p) => s + neg.filter((n) => n < p).length + 0.5 * neg.filter((n) => n === p).length, 0) /
  Math.max(1, pos.length * neg.length);

let saved: tf.io.ModelArtifacts | undefined;
await model.save(
  tf.io.withSaveHandler(
    async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
  ),
);
mkdirSync(OUT, { recursive: true });
const write = (name: string, value: unknown) => writeFileSync(join(OUT, name), JSON.stringify(value, null, 2) + '\n');
writeFileSync(join(OUT, 'group1-shard1of1.bin'), new Uint8Array(saved!.weightData as ArrayBuffer));
write('model.json', {
  format: 'layers-model',
  generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
  convertedBy: null,
  modelTopology: saved!.modelTopology,
  weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: saved!.weightSpecs }],
});
write('metrics.json', {
  evalSetDigest: digest(csv(evalSet)),
  values: { auc: Math.round(auc * 1e4) / 1e4, accuracy: Math.round(accuracy * 1e4) / 1e4 },
});
write('params.json', { epochs: 15, batchSize: 128, optimizer: 'adam', learningRate: 0.01, hidden: 16, seed: SEED });
write('lineage.json', { dataDigest: digest(csv(train)) });

const goldenInputs = evalSet.slice(0, 4).map((r) => [r.x.map((v) => Math.round(v * 1000) / 1000)]);
const examples = [];
for (const x of goldenInputs) {
  const y = model.predict(tf.tensor2d(x)) as tf.Tensor;
  examples.push({ inputs: { hidden_input: x }, outputs: { fraud_probability: await y.array() } });
}
write('golden.json', { tolerance: { atol: 1e-5, rtol: 1e-4 }, examples });

// The monitoring baseline, as `modelfleet baseline train.csv --schema … --predictions …` computes it:
// equiprobable bins + PIT tables from the training data, class counts and confidence deciles
// from the model's outputs on the evaluation set.
write(
  'baseline.json',
  buildBaseline(
    FEATURES.map((name) => ({ name, kind: 'numeric' as const })),
    (name) => train.map((r) => r.x[FEATURES.indexOf(name as (typeof FEATURES)[number])]!),
    [...scores].map((p) => [p]),
  ),
);
console.log(`wrote ${OUT}: auc ${auc.toFixed(3)}, accuracy ${accuracy.toFixed(3)}`);
