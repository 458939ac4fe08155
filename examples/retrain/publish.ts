/**
 * @module retrain/publish
 * Writes the challenger's model directory (the layout of examples/fraud-model: model.json and
 * weights, metrics.json, params.json, lineage.json, baseline.json, golden.json) and hands it to
 * the `modelfleet` CLI, run in-process as scripts/start.mjs runs its binary: `publish`, then the
 * server-side gate's `eval-set put` and `evaluate`. `--json` makes each answer one document.
 *
 * @example
 * await writeModelDir(dir, { model, metrics, params, lineage, baseline, goldenRows });
 * const { version } = await cli(cp, ['publish', dir, '--model', 'fraud', ...modelDirFlags(dir)]);
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { version as tfjsVersion } from '@tensorflow/tfjs';
import { run } from '../../control-plane/cli/main.ts';
import type { ControlPlane } from './champion.ts';
import { predict } from './evaluate.ts';

export interface ModelDir {
  model: tf.LayersModel;
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  lineage: Record<string, unknown>;
  baseline: unknown;
  /** Rows whose outputs validation recomputes in the Worker (golden examples). */
  goldenRows: number[][];
}

export async function writeModelDir(dir: string, d: ModelDir): Promise<void> {
  let saved: tf.io.ModelArtifacts | undefined;
  await d.model.save({
    save: async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
  });
  mkdirSync(dir, { recursive: true });
  const write = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value, null, 2) + '\n');
  writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(saved!.weightData as ArrayBuffer));
  write('model.json', {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfjsVersion.tfjs}`,
    convertedBy: null,
    modelTopology: saved!.modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: saved!.weightSpecs }],
  });
  write('metrics.json', d.metrics);
  write('params.json', d.params);
  write('lineage.json', d.lineage);
  write('baseline.json', d.baseline);
  // As make-fraud-model writes them: inputs rounded to what JSON carries exactly, outputs recomputed.
  const inputs = d.goldenRows.map((x) => x.map((v) => Math.round(v * 1000) / 1000));
  const outputs = await predict(d.model, inputs);
  write('golden.json', {
    tolerance: { atol: 1e-5, rtol: 1e-4 },
    examples: inputs.map((x, i) => ({
      inputs: { hidden_input: [x] },
      outputs: { fraud_probability: [[outputs[i]!]] },
    })),
  });
}

/** The publish flags for every metadata file writeModelDir writes. */
export const modelDirFlags = (dir: string) =>
  ['metrics', 'params', 'lineage', 'baseline', 'golden'].flatMap((f) => [`--${f}`, join(dir, `${f}.json`)]);

/** Runs `modelfleet --json <argv>` against the control plane; a non-zero exit throws its error. */
export async function cli<T = Record<string, unknown>>(cp: ControlPlane, argv: string[]): Promise<T> {
  const out: string[] = [];
  const err: string[] = [];
  // env: {} so the caller's MODELFLEET_* variables never override the service's own settings.
  const code = await run(['--endpoint', cp.endpoint, '--token', cp.token, '--json', ...argv], {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    tty: false,
    env: {},
  });
  const text = out.join('\n');
  if (code !== 0) throw new Error(`modelfleet ${argv[0]} exited ${code}: ${text || err.join('\n')}`);
  return JSON.parse(text) as T;
}
