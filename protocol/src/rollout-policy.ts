/**
 * @module rollout-policy
 * What a publisher (CI) token may start on its own, per model, set by an operator: how gradual
 * the plan must be, which safety metrics it must judge, and the champion/challenger gate — on
 * self-reported metrics (labelled as such) or on metrics the control plane computed itself on a
 * registered evaluation set. Operators are not bound by it (their overrides are audited).
 * Models without a policy get DEFAULT_POLICY.
 */
import { z } from 'zod';
import { METRICS, type RolloutPlan } from './rollout.ts';

export const GATE_SOURCES = ['self-reported', 'server'] as const;

export const PolicyGate = z.strictObject({
  /** A `metrics.values` key (self-reported) or a computed metric: `accuracy`, `logLoss` (server). */
  metric: z.string().min(1).max(64),
  margin: z.number().min(0).default(0),
  higherIsBetter: z.boolean().default(true),
  source: z.enum(GATE_SOURCES).default('self-reported'),
});
export type PolicyGate = z.infer<typeof PolicyGate>;

export const RolloutPolicy = z.strictObject({
  /** Publishers may start rollouts at all (false: only operators). */
  publisherMayStart: z.boolean().default(true),
  minSteps: z.number().int().min(1).max(20).default(3),
  maxFirstStepPercent: z.number().gt(0).max(100).default(10),
  /** Every step but the last bakes at least this long. */
  minBakeSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(3600),
  /** Metrics the plan must judge, as critical checks. */
  requiredMetrics: z
    .array(z.enum(METRICS))
    .max(METRICS.length)
    .default(['load_failure_rate', 'verify_failure_rate', 'inference_error_rate', 'non_finite_rate'])
    .refine((m) => new Set(m).size === m.length, 'each metric once'),
  /** The gate a publisher's rollout must pass; absent = the plan's own gate, which must then exist. */
  gate: PolicyGate.optional(),
});
export type RolloutPolicy = z.infer<typeof RolloutPolicy>;

export const DEFAULT_POLICY: RolloutPolicy = RolloutPolicy.parse({});

/** `GET`/`PUT /v1/models/{model}/rollout-policy`: the policy in force; `configured: false` = none was set, the defaults apply. */
export const RolloutPolicyView = z.object({
  model: z.string(),
  policy: RolloutPolicy,
  configured: z.boolean(),
  updatedBy: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type RolloutPolicyView = z.infer<typeof RolloutPolicyView>;

/** Why a plan breaks a policy (empty: it complies). The gate itself is judged against the versions' metrics elsewhere. */
export function policyViolations(plan: RolloutPlan, policy: RolloutPolicy): string[] {
  const out: string[] = [];
  if (plan.steps.length < policy.minSteps)
    out.push(`the plan has ${plan.steps.length} step(s); the policy needs at least ${policy.minSteps}`);
  if (plan.steps[0]!.percent > policy.maxFirstStepPercent)
    out.push(
      `the first step is ${plan.steps[0]!.percent} %; the policy allows at most ${policy.maxFirstStepPercent} %`,
    );
  const short = plan.steps.slice(0, -1).filter((s) => s.bakeSeconds < policy.minBakeSeconds);
  if (short.length > 0) out.push(`${short.length} step(s) bake less than the policy's ${policy.minBakeSeconds} s`);
  const judged = new Map(plan.analysis.map((c) => [c.metric, c]));
  const missing = policy.requiredMetrics.filter((m) => !judged.get(m)?.critical);
  if (missing.length > 0) out.push(`the plan must judge ${missing.join(', ')} as critical metrics`);
  if (!policy.gate && !plan.gate)
    out.push('the plan has no gate (plan.gate = { metric, margin }) and the policy sets none');
  return out;
}
