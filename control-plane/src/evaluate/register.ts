/**
 * @module evaluate/register
 * An operator registers a model's evaluation set: the rows are checked (rectangular, finite, one
 * label each) and checked against the model's reference version (the champion, else the newest
 * served version): they fit its input, and every label names one of its classes. Then the bytes
 * go to R2 by digest and the row to D1 with its audit record, replacing the previous set; and the
 * champion, and the challenger of a live rollout, are scored on it at once.
 * Nothing is stored when a check of the set fails.
 */
import { ApiError } from '@modelfleet/server-shared';
import {
  type EvalSetRequest,
  type EvalSetView,
  type IoSchema,
  canonicalEvalSet,
  evalSetShape,
  sha256Hex,
} from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel } from '../registry/models.ts';
import { fitOf } from './fit.ts';
import { evaluateOn } from './run.ts';
import { type EvalSetRow, currentEvalSet, evalSetKey, evalSetView } from './store.ts';

/** The version a new set is checked against: the champion, else the newest active version. */
async function referenceVersion(
  db: D1Database,
  modelId: number,
  model: string,
): Promise<{ version: number; io: IoSchema }> {
  const row = await db
    .prepare(
      `SELECT v.version, v.io FROM versions v WHERE v.model_id = ?1 AND v.status = 'active'
     ORDER BY (v.version = (SELECT version FROM aliases WHERE model_id = ?1 AND name = 'champion')) DESC, v.version DESC LIMIT 1`,
    )
    .bind(modelId)
    .first<{ version: number; io: string }>();
  if (!row)
    throw new ApiError(
      'unknown_version',
      `${model} has no served version yet; publish one first (the set is checked against its input and classes)`,
    );
  return { version: row.version, io: JSON.parse(row.io) as IoSchema };
}

/** Versions scored as soon as a set is registered: the champion and a live rollout's challenger. */
async function versionsToScore(db: D1Database, modelId: number): Promise<number[]> {
  const { results } = await db
    .prepare(
      `SELECT version FROM aliases WHERE model_id = ?1 AND name = 'champion'
     UNION SELECT challenger_version FROM rollouts WHERE model_id = ?1 AND state IN ('draft', 'running', 'paused')`,
    )
    .bind(modelId)
    .all<{ version: number }>();
  return results.map((r) => r.version);
}

export async function registerEvalSet(
  env: Env,
  model: string,
  body: EvalSetRequest,
  op: Operator,
): Promise<EvalSetView> {
  const m = await findModel(env.DB, model);
  const shape = evalSetShape(body);
  if (!shape.ok) throw new ApiError('bad_request', `evaluation set refused: ${shape.message}`);
  const reference = await referenceVersion(env.DB, m.id, model);
  const fit = fitOf(reference.io, shape.rowShape, body.labels);
  if (!fit.ok) throw new ApiError('bad_request', `evaluation set refused for v${reference.version}: ${fit.message}`);

  const bytes = canonicalEvalSet(body);
  const digest = await sha256Hex(bytes);
  // Content-addressed, so writing before the D1 batch is safe: unreferenced, it is never read.
  await env.ARTIFACTS.put(evalSetKey(digest), bytes, { httpMetadata: { contentType: 'application/json' } });
  const before = await currentEvalSet(env.DB, m.id);
  const at = new Date().toISOString();
  const row: EvalSetRow = {
    model_id: m.id,
    digest,
    rows: body.labels.length,
    row_shape: JSON.stringify(shape.rowShape),
    classes: fit.classes ?? Math.max(...body.labels) + 1,
    label: body.label ?? null,
    registered_by: op.actor,
    registered_at: at,
  };
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO eval_sets (model_id, digest, rows, row_shape, classes, label, registered_by, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model_id) DO UPDATE SET digest = excluded.digest, rows = excluded.rows, row_shape = excluded.row_shape, classes = excluded.classes,
         label = excluded.label, registered_by = excluded.registered_by, registered_at = excluded.registered_at`,
    ).bind(
      row.model_id,
      row.digest,
      row.rows,
      row.row_shape,
      row.classes,
      row.label,
      row.registered_by,
      row.registered_at,
    ),
    auditStatement(
      env.DB,
      {
        actor: op.actor,
        action: 'evalset.register',
        subject: `model/${model}/eval-set`,
        before: before ? { digest: before.digest, rows: before.rows } : null,
        after: { digest, rows: row.rows, rowShape: shape.rowShape, classes: row.classes, label: row.label },
      },
      at,
    ),
  ]);
  for (const version of await versionsToScore(env.DB, m.id)) {
    try {
      await evaluateOn(env, { id: m.id, name: model }, row, version, op.actor);
    } catch (e) {
      // The set stands whatever one version's run says (a challenger that takes another input, a
      // model too large to score on this many rows): the answer lists what was scored, and
      // POST …/evaluate says why a version was not.
      if (!(e instanceof ApiError)) console.error(`scoring v${version} of ${model} on a new evaluation set failed`, e);
    }
  }
  return evalSetView(env.DB, model, row);
}
