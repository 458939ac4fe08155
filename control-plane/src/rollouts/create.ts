/**
 * @module rollouts/create
 * A new rollout as a draft: the champion is whatever the `champion` alias points at now; the
 * challenger must be a served version other than it; at most one rollout per model is live
 * (a unique partial index makes a concurrent second create fail, not double up).
 */
import { ApiError } from '@modelfleet/edge-runtime';
import { ROLE_RANK, RolloutPlan, type VersionSummary, toHex } from '@modelfleet/protocol';
import type { Operator } from '../http/context.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel, getVersion } from '../registry/models.ts';
import type { RolloutView } from './machine.ts';

/**
 * The gate's verdict for a publisher-started rollout: both versions measured on the same
 * evaluation set, the challenger better by the margin. Throws `gate_failed` with the evidence.
 */
export function checkGate(gate: RolloutPlan['gate'], champion: VersionSummary, challenger: VersionSummary): { metric: string; champion: number; challenger: number; margin: number } {
  const fail = (why: string, details?: unknown) => new ApiError('gate_failed', `a publisher can start this rollout only through the gate: ${why}; otherwise an operator must start it`, details);
  if (!gate) throw fail('the plan has no gate (plan.gate = { metric, margin })');
  const a = champion.metrics as { evalSetDigest?: string; values?: Record<string, number> };
  const b = challenger.metrics as { evalSetDigest?: string; values?: Record<string, number> };
  if (!a.evalSetDigest || a.evalSetDigest !== b.evalSetDigest) throw fail(`v${challenger.version} and the champion v${champion.version} were not evaluated on the same set`, { champion: a.evalSetDigest ?? null, challenger: b.evalSetDigest ?? null });
  const x = a.values?.[gate.metric];
  const y = b.values?.[gate.metric];
  if (x === undefined || y === undefined) throw fail(`both versions need a ${gate.metric} metric`);
  const better = gate.higherIsBetter ? y - x : x - y;
  const evidence = { metric: gate.metric, champion: x, challenger: y, margin: gate.margin };
  if (better < gate.margin) throw fail(`${gate.metric} ${y} vs champion ${x} does not beat it by ${gate.margin}`, evidence);
  return evidence;
}

export async function createRollout(db: D1Database, model: string, challenger: number, planInput: unknown, op: Operator, reason?: string): Promise<RolloutView> {
  const parsed = RolloutPlan.safeParse(planInput ?? {});
  if (!parsed.success) throw new ApiError('bad_request', `invalid rollout plan: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const plan = parsed.data;
  // An operator may pin a salt (reproducible experiments); a publisher may not choose the canaries.
  if (plan.salt !== undefined && ROLE_RANK[op.role] < ROLE_RANK.operator) throw new ApiError('forbidden', 'only an operator may pin a rollout\'s bucketing salt; omit plan.salt');
  const m = await findModel(db, model);
  const champion = await db.prepare("SELECT version FROM aliases WHERE model_id = ? AND name = 'champion'").bind(m.id).first<{ version: number }>();
  if (!champion) throw new ApiError('unknown_version', `${model} has no champion to roll out against; set the champion alias first`);
  const target = await getVersion(db, model, challenger);
  if (target.status !== 'active') throw new ApiError('version_rejected', `version ${challenger} of ${model} failed validation and can never be served`);
  if (challenger === champion.version) throw new ApiError('conflict', `version ${challenger} is already the champion`);
  // Operators decide; a publisher (CI) starts a rollout only through the champion/challenger gate.
  const gate = ROLE_RANK[op.role] < ROLE_RANK.operator ? checkGate(plan.gate, await getVersion(db, model, champion.version), target) : null;
  if (gate) reason = `${reason ? `${reason}; ` : ''}gate passed: ${gate.metric} ${gate.challenger} vs ${gate.champion} (margin ${gate.margin})`;
  const live = await db.prepare("SELECT id FROM rollouts WHERE model_id = ? AND state IN ('draft', 'running', 'paused')").bind(m.id).first<{ id: string }>();
  if (live) throw new ApiError('conflict', `rollout ${live.id} of ${model} is still live; promote, abort or kill it first`, { rollout: live.id });
  const id = `ro_${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
  // A fresh secret salt per rollout spreads canary risk across the fleet and keeps devices from
  // choosing their range: 256 random bits, never in any response, audit record or ticket (SPEC
  // 11.2).
  const salt = plan.salt ?? toHex(crypto.getRandomValues(new Uint8Array(32)));
  const at = new Date().toISOString();
  const view: RolloutView = { id, model, champion: champion.version, challenger, plan, state: 'draft', step: 0, percent: 0, stepStartedAt: null };
  try {
    await db.batch([
      db.prepare('INSERT INTO rollouts (id, model_id, champion_version, challenger_version, plan, salt, state, step, percent, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)')
        .bind(id, m.id, champion.version, challenger, JSON.stringify(plan), salt, 'draft', op.actor, at, at),
      auditStatement(db, { actor: op.actor, action: 'rollout.create', subject: `rollout/${id}`, after: view, ...(reason ? { reason } : {}) }, at),
    ]);
  } catch (e) {
    if (/UNIQUE/i.test(String((e as Error).message))) throw new ApiError('conflict', `another rollout of ${model} went live at the same time`);
    throw e;
  }
  return view;
}
