/**
 * @module rollouts/store
 * Rollout rows in D1 — the single source of truth the edge reads — and the one batch that applies
 * a transition: the row (compare-and-swap on state and step), the model's ticket sequence, the
 * champion alias on final promotion, and the audit record with before/after and evidence. The
 * dependent statements run only if the swap took effect, so a lost race changes nothing.
 */
import { ApiError } from '@modelfleet/server-shared';
import { type RolloutDecision, RolloutPlan, type RolloutWithDecision } from '@modelfleet/protocol';
import { auditStatementIf } from '../registry/audit.ts';
import { type EventInput, eventStatements } from '../webhooks/events.ts';
import type { TransitionInput } from './coordinator-api.ts';
import { type RolloutView, transition } from './machine.ts';

interface Row {
  id: string;
  model: string;
  model_id: number;
  champion_version: number;
  challenger_version: number;
  plan: string;
  salt: string;
  state: RolloutView['state'];
  step: number;
  percent: number;
  step_started_at: string | null;
  decision: string | null;
}

const SELECT = `SELECT r.*, m.name AS model FROM rollouts r JOIN models m ON m.id = r.model_id`;

export const toView = (r: Row): RolloutView => ({
  id: r.id,
  model: r.model,
  champion: r.champion_version,
  challenger: r.challenger_version,
  plan: RolloutPlan.parse(JSON.parse(r.plan)),
  state: r.state,
  step: r.step,
  percent: r.percent,
  stepStartedAt: r.step_started_at,
});

/** The analysis's last decision, as the coordinator stored it (JSON of a protocol RolloutDecision). */
const decisionOf = (r: Row): RolloutDecision | null =>
  r.decision ? (JSON.parse(r.decision) as RolloutDecision) : null;

export async function findRollout(db: D1Database, id: string): Promise<RolloutWithDecision & { modelId: number }> {
  const row = await db.prepare(`${SELECT} WHERE r.id = ?`).bind(id).first<Row>();
  if (!row) throw new ApiError('not_found', `no rollout ${id}`);
  return { ...toView(row), modelId: row.model_id, decision: decisionOf(row) };
}

export async function listRollouts(db: D1Database, modelId: number): Promise<RolloutWithDecision[]> {
  const { results } = await db
    .prepare(`${SELECT} WHERE r.model_id = ? ORDER BY r.created_at DESC LIMIT 50`)
    .bind(modelId)
    .all<Row>();
  return results.map((r) => ({ ...toView(r), decision: decisionOf(r) }));
}

/**
 * Applies one transition in one D1 batch; returns the new view and the id of its webhook event
 * (for the caller to queue). Throws `conflict` when it lost a race.
 */
export async function applyTransition(
  db: D1Database,
  id: string,
  input: TransitionInput,
): Promise<{ view: RolloutView; eventId: string }> {
  const before = await findRollout(db, id);
  const at = (input.at ?? new Date()).toISOString();
  const after = transition(before, input.action, at, input.expectStep);
  // Every dependent statement checks that the swap below took effect.
  const took = 'EXISTS (SELECT 1 FROM rollouts WHERE id = ? AND updated_at = ? AND state = ? AND step = ?)';
  const tookParams = [id, at, after.state, after.step];
  const statements = [
    db
      .prepare(
        'UPDATE rollouts SET state = ?, step = ?, percent = ?, step_started_at = ?, updated_at = ? WHERE id = ? AND state = ? AND step = ?',
      )
      .bind(after.state, after.step, after.percent, after.stepStartedAt, at, id, before.state, before.step),
    // Devices must see a higher ticket sequence whenever what they are told to run can change.
    db
      .prepare(`UPDATE models SET sequence = sequence + 1 WHERE id = ? AND ${took}`)
      .bind(before.modelId, ...tookParams),
    ...(after.state === 'promoted'
      ? [
          db
            .prepare(
              `UPDATE aliases SET version = ?, updated_at = ?, updated_by = ? WHERE model_id = ? AND name = 'champion' AND ${took}`,
            )
            .bind(after.challenger, at, input.actor, before.modelId, ...tookParams),
        ]
      : []),
    auditStatementIf(
      db,
      {
        actor: input.actor,
        action: `rollout.${input.action}`,
        subject: `rollout/${id}`,
        before: strip(before),
        after: { ...strip(after), ...(input.evidence === undefined ? {} : { evidence: input.evidence }) },
        ...(input.reason ? { reason: input.reason } : {}),
      },
      at,
      took,
      tookParams,
    ),
  ];
  const event = transitionEvent(before, after, input, at);
  statements.push(eventStatements(db, event, undefined, { sql: took, params: tookParams }));
  const [update] = await db.batch(statements);
  if (update!.meta.changes !== 1)
    throw new ApiError(
      'conflict',
      `rollout ${id} changed while this ${input.action} was applied; nothing was done, reload and retry`,
    );
  return { view: after, eventId: event.id };
}

/** The CloudEvent of a transition: every decision, by an operator or by the analysis. */
export function transitionEvent(
  before: RolloutView & { modelId: number },
  after: RolloutView,
  input: TransitionInput,
  at: string,
): EventInput {
  return {
    id: `rollout/${after.id}/${input.action}/${at}`,
    type: 'dev.modelfleet.rollout.transition',
    model: { id: before.modelId, name: after.model },
    subject: `rollouts/${after.id}`,
    time: at,
    data: {
      rollout: after.id,
      action: input.action,
      actor: input.actor,
      reason: input.reason ?? null,
      from: { state: before.state, step: before.step, percent: before.percent },
      to: { state: after.state, step: after.step, percent: after.percent },
      champion: after.champion,
      challenger: after.challenger,
      evidence: input.evidence ?? null,
    },
  };
}

/** Only the view's own fields go to the audit log (replay reads them back). */
function strip(v: RolloutView & { modelId?: number; decision?: unknown }): RolloutView {
  const { modelId: _m, decision: _d, ...view } = v;
  return view;
}
