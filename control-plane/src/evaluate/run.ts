/**
 * @module evaluate/run
 * Scores one version on its model's current evaluation set, in the Worker: the set from R2, the
 * version's stored bytes (registry/artifacts.ts) into TF.js (loaded lazily, taking turns with
 * publish validation), every row in batches, then accuracy and log loss (metrics.ts) into
 * `evaluations`. Nothing else changes. A version already scored on the current set is not run
 * again: the run is deterministic, so a second one could only cost CPU.
 *
 * In request, not in a queue: 2,000 rows of the repo's fixture models take tens of milliseconds
 * (docs/rollouts.md, "The gate and evaluation sets", has the measured figures).
 *
 * @example
 * const evaluation = await evaluateVersion(env, 'fraud', 2, op.actor);
 */
import { ApiError } from '@modelfleet/server-shared';
import type { Evaluation } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { loadVersionArtifacts } from '../registry/artifacts.ts';
import { findModel } from '../registry/models.ts';
import { loadEngine } from '../validate/lazy.ts';
import { fitOf } from './fit.ts';
import { classifierMetrics } from './metrics.ts';
import { type EvalSetRow, findEvaluation, readEvalSet, requireEvalSet, storeEvaluation } from './store.ts';

/**
 * The most rows × weights (≈ multiply-adds of a dense model) one evaluation may cost: about 12 s
 * of CPU at the ~2.8 ns per multiply-add measured in workerd (docs/rollouts.md), inside a
 * request's default 30 s. Convolutions do more work per weight; their figures are in docs/rollouts.md.
 */
export const MAX_EVAL_WORK = 2 ** 32;

/** Every row's values flat, row after row (the shape was checked at registration). */
function flatten(inputs: unknown[], per: number): Float32Array {
  const out = new Float32Array(inputs.length * per);
  let i = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out[i++] = v as number;
  };
  for (const row of inputs) walk(row);
  return out;
}

export async function evaluateVersion(env: Env, model: string, version: number, actor: string): Promise<Evaluation> {
  const m = await findModel(env.DB, model);
  const set = await requireEvalSet(env.DB, m.id, model);
  return evaluateOn(env, { id: m.id, name: model }, set, version, actor);
}

export async function evaluateOn(
  env: Env,
  m: { id: number; name: string },
  set: EvalSetRow,
  version: number,
  actor: string,
): Promise<Evaluation> {
  const known = await findEvaluation(env.DB, m.id, version, set.digest);
  if (known) return known;
  const artifacts = await loadVersionArtifacts(env, m.name, version);
  const rowShape = JSON.parse(set.row_shape) as number[];
  const { inputs, labels } = await readEvalSet(env, set.digest);
  const fit = fitOf(artifacts.io, rowShape, labels);
  if (!fit.ok)
    throw new ApiError(
      'eval_set_mismatch',
      `v${version} of ${m.name} cannot be scored on the evaluation set ${set.digest.slice(0, 12)}…: ${fit.message}`,
    );

  const work = labels.length * (artifacts.weightData.byteLength / 4);
  if (work > MAX_EVAL_WORK) {
    throw new ApiError(
      'eval_set_mismatch',
      `v${version} of ${m.name} (${artifacts.weightData.byteLength} weight bytes) on ${labels.length} rows is more work than one evaluation may do (rows × weights ≤ ${MAX_EVAL_WORK}); register a set with fewer rows`,
    );
  }
  const engine = await loadEngine();
  const started = performance.now();
  const out = await engine.exclusive(async () => {
    const outcome = await engine.loadFromMemory(artifacts.format, artifacts.modelJson, artifacts.weightData);
    if (!outcome.ok)
      throw new ApiError(
        'internal',
        `v${version} of ${m.name} passed validation but does not load now: ${outcome.failure.message}`,
      );
    try {
      const per = rowShape.reduce((n, d) => n * d, 1);
      return await engine.predictRows(
        outcome.loaded,
        flatten(inputs, per),
        rowShape,
        labels.length,
        fit.batch ?? undefined,
      );
    } catch (e) {
      throw new ApiError(
        'eval_set_mismatch',
        `v${version} of ${m.name} could not run the evaluation set: ${(e as Error).message}`,
      );
    } finally {
      engine.disposeModel(outcome.loaded);
    }
  });
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const bad = fitOf(
    { ...artifacts.io, outputs: [{ ...artifacts.io.outputs[0]!, shape: [null, out.width] }] },
    rowShape,
    labels,
  );
  if (!bad.ok)
    throw new ApiError(
      'eval_set_mismatch',
      `v${version} of ${m.name} cannot be scored on the evaluation set: ${bad.message}`,
    );

  const evaluation: Evaluation = {
    version,
    evalSetDigest: set.digest,
    metrics: classifierMetrics(out.values, out.width, labels),
    evaluatedAt: new Date().toISOString(),
    ms,
    evaluatedBy: actor,
    source: 'control-plane',
  };
  await storeEvaluation(env.DB, m.id, evaluation);
  // A concurrent run of the same version may have written first; either row holds the same metrics.
  return (await findEvaluation(env.DB, m.id, version, set.digest)) ?? evaluation;
}
