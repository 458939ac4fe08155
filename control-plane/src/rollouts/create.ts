/**
 * @module rollouts/create
 * A new rollout as a draft: the champion is whatever the `champion` alias points at now; the
 * challenger must be a served version other than it; at most one rollout per model is live
 * (a unique partial index makes a concurrent second create fail, not double up). The plan's
 * power on the model's fleet is checked after the policy (plan-check.ts): a plan that cannot decide
 * is refused for a publisher (`plan_cannot_decide`) and warned for an operator; a model with no
 * fleet data yet is a documented hold (warned, not refused: the analysis never passes without data).
 */
import { ApiError } from '@modelfleet/server-shared';
import {
  type PlanCheckResponse,
  type PowerReport,
  ROLE_RANK,
  type RolloutPlan,
  type RolloutPolicy,
  policyViolations,
  toHex,
} from '@modelfleet/protocol';
import type { Operator } from '../http/context.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel, getVersion } from '../registry/models.ts';
import type { RolloutView } from './machine.ts';
import { type PlanSettings, checkPlan, parsePlan } from './plan-check.ts';
import { checkGate, policyFor } from './policy.ts';

/** What an operator is told about a plan that may not decide (problems, then the changes that would fix them). */
const warningsOf = (power: PowerReport) =>
  power.status === 'decides' ? [] : [...power.problems, ...power.suggestions.map((s) => `to decide: ${s}`)];

/**
 * The plan as creating it would store it, its power report, and what creating it would do for the
 * caller's role — nothing is created (`POST …/rollouts/preview`, `rollout create --dry-run`).
 */
export async function previewRollout(
  db: D1Database,
  env: PlanSettings,
  model: string,
  planInput: unknown,
  op: Operator,
): Promise<PlanCheckResponse> {
  const given = parsePlan(planInput);
  const m = await findModel(db, model);
  const { policy } = await policyFor(db, m.id);
  const { plan, power } = await checkPlan(db, env, m.id, given, policy);
  const violations = policyViolations(plan, policy);
  const publisher = ROLE_RANK[op.role] < ROLE_RANK.operator;
  const outcome =
    publisher && (power.status === 'cannot-decide' || violations.length > 0 || !policy.publisherMayStart)
      ? 'refused'
      : power.status === 'decides'
        ? 'allowed'
        : 'warned';
  return { plan, power, policyViolations: violations, outcome, warnings: warningsOf(power) };
}

export interface CreatedRollout {
  view: RolloutView;
  power: PowerReport;
  warnings: string[];
}

const isPublisher = (op: Operator) => ROLE_RANK[op.role] < ROLE_RANK.operator;

export async function createRollout(
  db: D1Database,
  env: PlanSettings,
  model: string,
  challenger: number,
  planInput: unknown,
  op: Operator,
  reason?: string,
): Promise<CreatedRollout> {
  const given = parsePlan(planInput);
  // An operator may pin a salt (reproducible experiments); a publisher may not choose the canaries.
  if (given.plan.salt !== undefined && isPublisher(op))
    throw new ApiError('forbidden', "only an operator may pin a rollout's bucketing salt; omit plan.salt");
  const m = await findModel(db, model);
  const { champion, target } = await versionsOf(db, m.id, model, challenger);
  const { policy } = await policyFor(db, m.id);
  const { plan, power } = await checkPlan(db, env, m.id, given, policy);
  const notes = await mayStart(db, { modelId: m.id, model, op, plan, policy, power, champion, target });
  const live = await db
    .prepare("SELECT id FROM rollouts WHERE model_id = ? AND state IN ('draft', 'running', 'paused')")
    .bind(m.id)
    .first<{ id: string }>();
  if (live)
    throw new ApiError('conflict', `rollout ${live.id} of ${model} is still live; promote, abort or kill it first`, {
      rollout: live.id,
    });
  const id = `ro_${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
  // A fresh secret salt per rollout spreads canary risk across the fleet and keeps devices from
  // choosing their range: 256 random bits, never in any response, audit record or ticket (SPEC
  // 11.2).
  const salt = plan.salt ?? toHex(crypto.getRandomValues(new Uint8Array(32)));
  const at = new Date().toISOString();
  const view: RolloutView = {
    id,
    model,
    champion: champion.version,
    challenger,
    plan,
    state: 'draft',
    step: 0,
    percent: 0,
    stepStartedAt: null,
  };
  const why = [reason, ...notes].filter(Boolean).join('; ');
  try {
    await db.batch([
      db
        .prepare(
          'INSERT INTO rollouts (id, model_id, champion_version, challenger_version, plan, salt, state, step, percent, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)',
        )
        .bind(id, m.id, champion.version, challenger, JSON.stringify(plan), salt, 'draft', op.actor, at, at),
      auditStatement(
        db,
        {
          actor: op.actor,
          action: 'rollout.create',
          subject: `rollout/${id}`,
          after: { ...view, power },
          ...(why ? { reason: why } : {}),
        },
        at,
      ),
    ]);
  } catch (e) {
    if (/UNIQUE/i.test(String((e as Error).message)))
      throw new ApiError('conflict', `another rollout of ${model} went live at the same time`);
    throw e;
  }
  return { view, power, warnings: warningsOf(power) };
}

/** The champion (the `champion` alias now) and the challenger, which must be a served version other than it. */
async function versionsOf(db: D1Database, modelId: number, model: string, challenger: number) {
  const champion = await db
    .prepare("SELECT version FROM aliases WHERE model_id = ? AND name = 'champion'")
    .bind(modelId)
    .first<{ version: number }>();
  if (!champion)
    throw new ApiError('unknown_version', `${model} has no champion to roll out against; set the champion alias first`);
  const target = await getVersion(db, model, challenger);
  if (target.status !== 'active')
    throw new ApiError(
      'version_rejected',
      `version ${challenger} of ${model} failed validation and can never be served`,
    );
  if (challenger === champion.version) throw new ApiError('conflict', `version ${challenger} is already the champion`);
  return { champion, target };
}

interface StartRequest {
  modelId: number;
  model: string;
  op: Operator;
  plan: RolloutPlan;
  policy: RolloutPolicy;
  power: PowerReport;
  champion: { version: number };
  target: Awaited<ReturnType<typeof getVersion>>;
}

/**
 * Whether the caller may start this plan: throws when not, else answers the notes the audit
 * record's reason gets (a passed gate, an operator's override of the policy or of the power check).
 */
async function mayStart(db: D1Database, r: StartRequest): Promise<string[]> {
  const { modelId, model, op, plan, policy, power } = r;
  const violations = policyViolations(plan, policy);
  const notes: string[] = [];
  // Operators decide; a publisher (CI) starts a rollout only within the model's policy and through
  // its champion/challenger gate. An operator's rollout may break the policy: the audit says how.
  if (isPublisher(op)) {
    if (!policy.publisherMayStart)
      throw new ApiError('forbidden', `the rollout policy of ${model} lets only operators start rollouts`);
    if (violations.length > 0)
      throw new ApiError(
        'policy_violation',
        `the plan breaks the rollout policy of ${model}: ${violations.join('; ')}`,
        { violations, policy },
      );
    const gate = await checkGate(
      db,
      modelId,
      policy.gate ?? { ...plan.gate!, source: 'self-reported' },
      await getVersion(db, model, r.champion.version),
      r.target,
    );
    notes.push(
      `gate passed (${gate.source === 'server' ? 'computed by the control plane' : 'self-reported metrics'}): ${gate.metric} ${gate.challenger} vs ${gate.champion} (margin ${gate.margin})`,
    );
  } else if (violations.length > 0) {
    notes.push(`operator override of the rollout policy: ${violations.join('; ')}`);
  }
  // The power check comes after the policy: a plan that cannot decide would only wait for an operator.
  if (power.status === 'cannot-decide') {
    if (isPublisher(op)) {
      throw new ApiError(
        'plan_cannot_decide',
        `the plan cannot decide on the fleet of ${model} (${Math.round(power.fleet.devicesPerDay)} devices a day): ${power.problems.join('; ')}; an operator may start it anyway`,
        { power, problems: power.problems, suggestions: power.suggestions },
      );
    }
    notes.push(
      `operator started a plan that cannot decide on the fleet (${Math.round(power.fleet.devicesPerDay)} devices a day): it will hold for an operator`,
    );
  }
  return notes;
}
