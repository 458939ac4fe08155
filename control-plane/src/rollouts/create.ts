/**
 * @module rollouts/create
 * A new rollout as a draft: the champion is whatever the `champion` alias points at now; the
 * challenger must be a served version other than it; at most one rollout per model is live
 * (a unique partial index makes a concurrent second create fail, not double up).
 */
import { ApiError } from '@modelfleet/edge-runtime';
import { ROLE_RANK, RolloutPlan, policyViolations, toHex } from '@modelfleet/protocol';
import type { Operator } from '../http/context.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel, getVersion } from '../registry/models.ts';
import type { RolloutView } from './machine.ts';
import { checkGate, policyFor } from './policy.ts';

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
  // Operators decide; a publisher (CI) starts a rollout only within the model's policy and through
  // its champion/challenger gate. An operator's rollout may break the policy: the audit says how.
  const { policy } = await policyFor(db, m.id);
  const violations = policyViolations(plan, policy);
  const note = (text: string) => void (reason = `${reason ? `${reason}; ` : ''}${text}`);
  if (ROLE_RANK[op.role] < ROLE_RANK.operator) {
    if (!policy.publisherMayStart) throw new ApiError('forbidden', `the rollout policy of ${model} lets only operators start rollouts`);
    if (violations.length > 0) throw new ApiError('policy_violation', `the plan breaks the rollout policy of ${model}: ${violations.join('; ')}`, { violations, policy });
    const gate = await checkGate(db, m.id, policy.gate ?? { ...plan.gate!, source: 'self-reported' }, await getVersion(db, model, champion.version), target);
    note(`gate passed (${gate.source === 'server' ? 'computed by the control plane' : 'self-reported metrics'}): ${gate.metric} ${gate.challenger} vs ${gate.champion} (margin ${gate.margin})`);
  } else if (violations.length > 0) {
    note(`operator override of the rollout policy: ${violations.join('; ')}`);
  }
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
