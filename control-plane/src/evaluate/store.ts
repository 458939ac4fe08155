/**
 * @module evaluate/store
 * D1 rows of evaluation sets and evaluations, and the set's bytes in R2 (content-addressed at
 * `evalsets/<digest>`, so a set registered twice is stored once and a superseded one still
 * explains its old evaluations).
 */
import { ApiError } from '@modelfleet/server-shared';
import { type EvalMetrics, type EvalSetView, type Evaluation, sha256Hex } from '@modelfleet/protocol';
import type { Env } from '../env.ts';

export const evalSetKey = (digest: string) => `evalsets/${digest}`;

export interface EvalSetRow {
  model_id: number;
  digest: string;
  rows: number;
  row_shape: string;
  classes: number;
  label: string | null;
  registered_by: string;
  registered_at: string;
}
interface EvaluationRow {
  version: number;
  eval_set_digest: string;
  metrics: string;
  evaluated_at: string;
  ms: number;
  evaluated_by: string;
}

export async function currentEvalSet(db: D1Database, modelId: number): Promise<EvalSetRow | null> {
  return db.prepare('SELECT * FROM eval_sets WHERE model_id = ?').bind(modelId).first<EvalSetRow>();
}

export async function requireEvalSet(db: D1Database, modelId: number, model: string): Promise<EvalSetRow> {
  const set = await currentEvalSet(db, modelId);
  if (!set)
    throw new ApiError(
      'no_eval_set',
      `${model} has no evaluation set; an operator registers one with PUT /v1/models/${model}/eval-set`,
    );
  return set;
}

/** The set's rows as registered, read back from R2 and checked against the digest D1 holds. */
export async function readEvalSet(env: Env, digest: string): Promise<{ inputs: unknown[]; labels: number[] }> {
  const object = await env.ARTIFACTS.get(evalSetKey(digest));
  if (!object) throw new ApiError('internal', `evaluation set ${digest} is missing from R2; register it again`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  if ((await sha256Hex(bytes)) !== digest)
    throw new ApiError('internal', `evaluation set ${digest} in R2 does not match its digest; register it again`);
  return JSON.parse(new TextDecoder().decode(bytes)) as { inputs: unknown[]; labels: number[] };
}

const toEvaluation = (r: EvaluationRow): Evaluation => ({
  version: r.version,
  evalSetDigest: r.eval_set_digest,
  metrics: JSON.parse(r.metrics) as EvalMetrics,
  evaluatedAt: r.evaluated_at,
  ms: r.ms,
  evaluatedBy: r.evaluated_by,
  source: 'control-plane',
});

export async function findEvaluation(
  db: D1Database,
  modelId: number,
  version: number,
  digest: string,
): Promise<Evaluation | null> {
  const row = await db
    .prepare('SELECT * FROM evaluations WHERE model_id = ? AND version = ? AND eval_set_digest = ?')
    .bind(modelId, version, digest)
    .first<EvaluationRow>();
  return row ? toEvaluation(row) : null;
}

/** Writes the evaluation unless one of the same version on the same set is there (they are equal: the run is deterministic). */
export async function storeEvaluation(db: D1Database, modelId: number, e: Evaluation): Promise<void> {
  await db
    .prepare(
      `INSERT INTO evaluations (model_id, version, eval_set_digest, metrics, evaluated_at, ms, evaluated_by) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (model_id, version, eval_set_digest) DO NOTHING`,
    )
    .bind(modelId, e.version, e.evalSetDigest, JSON.stringify(e.metrics), e.evaluatedAt, e.ms, e.evaluatedBy)
    .run();
}

export async function evalSetView(db: D1Database, model: string, set: EvalSetRow): Promise<EvalSetView> {
  const { results } = await db
    .prepare('SELECT * FROM evaluations WHERE model_id = ? AND eval_set_digest = ? ORDER BY version DESC')
    .bind(set.model_id, set.digest)
    .all<EvaluationRow>();
  return {
    model,
    digest: set.digest,
    rows: set.rows,
    rowShape: JSON.parse(set.row_shape) as number[],
    classes: set.classes,
    label: set.label,
    registeredBy: set.registered_by,
    registeredAt: set.registered_at,
    evaluations: results.map(toEvaluation),
  };
}
