/**
 * @module rollouts/plan-check
 * What a plan can decide on this model's fleet, before anything is created: the fleet measured
 * from the daily health windows, the release noise from the production privacy functions, the
 * parts of the plan the caller left out derived from both (power.ts), the plan validated beyond
 * its schema, and the power report. Used by rollout creation and by `POST …/rollouts/preview`.
 */
import { ApiError, vars, windowSeconds } from '@modelfleet/server-shared';
import { DAY_SECONDS, type PowerReport, RolloutPlan } from '@modelfleet/protocol';
import type { HealthSummary } from '../drift/health-summary.ts';
import { metricRate } from './judge.ts';
import { deriveDefaults } from './plan-defaults.ts';
import { type Fleet, type Privacy, SEQUENTIAL_RULE, TYPICAL_RATES, isSeMetric, powerReport } from './power.ts';
import { stepPrivacy } from './step-budget.ts';

export interface PlanSettings {
  DRIFT_EPSILON_PER_DAY?: string | undefined;
  DRIFT_MIN_DEVICES?: string | undefined;
  WINDOW_SECONDS?: string | undefined;
}

/** Daily windows the fleet size rests on (the latest week). */
export const FLEET_WINDOWS = 7;

/**
 * Devices a day on the model: per recent daily window, the devices that reported health on any
 * of its versions (cohorts `health` and `health-control`, released or not: the count itself is
 * not noised), and the median over the latest FLEET_WINDOWS windows (robust to one odd day).
 */
export async function fleetOf(db: D1Database, modelId: number, window = DAY_SECONDS): Promise<Fleet> {
  const { results } = await db
    .prepare(
      "SELECT window, SUM(devices) AS devices FROM drift_windows WHERE model_id = ? AND cohort IN ('health', 'health-control') GROUP BY window ORDER BY window DESC LIMIT ?",
    )
    .bind(modelId, FLEET_WINDOWS)
    .all<{ window: number; devices: number }>();
  const counts = results.map((r) => r.devices).sort((a, b) => a - b);
  const mid = counts.length >> 1;
  const median = counts.length === 0 ? 0 : counts.length % 2 ? counts[mid]! : (counts[mid - 1]! + counts[mid]!) / 2;
  const kind = window === DAY_SECONDS ? 'daily' : `${window}-s`;
  return {
    devicesPerDay: median,
    windows: counts.length,
    windowSeconds: window,
    basis: `median devices per ${kind} health window over the latest ${counts.length} window(s) (drift_windows, cohorts health + health-control)`,
  };
}

/**
 * The step's health release noise σ (on each arm's counts) for a plan judging `analysis`: the
 * step's ε a day, the health channel's share of it and only the features it reads (step-budget.ts),
 * as increments.ts asks for it.
 */
export const privacyOf = (env: PlanSettings, analysis: RolloutPlan['analysis']): Promise<Privacy> =>
  stepPrivacy(vars(env).DRIFT_EPSILON_PER_DAY, analysis); // what a step's releases spend (increments.ts stepReleaseRho)

/** Released health windows of the champion a rate is looked for in, newest first. */
export const RATE_WINDOWS = 30;

/**
 * The fleet's rate per metric: of the champion's recent released health windows, the one that
 * measured the metric on the most devices (noised, so clipped to [0, 1]). Load outcomes come only
 * from devices that loaded in the window — after an update settles, most windows have few or
 * none — so each metric takes its own window. The binomial spread a plan must beat is computed at
 * these rates; a metric seen in none of them keeps the typical rate.
 */
async function ratesOf(db: D1Database, modelId: number): Promise<Fleet['rates']> {
  const { results } = await db
    .prepare(
      "SELECT w.verdict FROM drift_windows w JOIN aliases a ON a.model_id = w.model_id AND a.name = 'champion' AND a.version = w.version WHERE w.model_id = ? AND w.cohort = 'health' AND w.released = 1 AND w.verdict IS NOT NULL ORDER BY w.window DESC LIMIT ?",
    )
    .bind(modelId, RATE_WINDOWS)
    .all<{ verdict: string }>();
  if (results.length === 0) return undefined;
  const summaries = results.map((r) => JSON.parse(r.verdict) as HealthSummary);
  const rates: NonNullable<Fleet['rates']> = {};
  for (const metric of Object.keys(TYPICAL_RATES) as (keyof typeof TYPICAL_RATES)[]) {
    // The window that measured the metric on the most devices (the newest of equals): a share
    // over a handful of devices is mostly release noise.
    let best: { value: number; n: number } | null = null;
    for (const summary of summaries) {
      const r = metricRate(metric, summary);
      if (r && r.n > (best?.n ?? 0) && Number.isFinite(r.value)) best = r;
    }
    if (best) rates[metric] = Math.min(1, Math.max(0, best.value));
  }
  return rates;
}

/**
 * Checks the schema cannot: a rate tolerance of 0 never passes (every measured difference has
 * noise), so it is refused rather than left to hold forever. Negative, non-numeric and NaN
 * tolerances and steps that do not grow are refused by the schema itself.
 */
function planProblems(plan: RolloutPlan): string[] {
  return plan.analysis
    .filter((c) => isSeMetric(c.metric) && c.tolerance <= 0)
    .map(
      (c) =>
        `analysis.${c.metric}: a tolerance of 0 can never pass (every measured rate difference carries sampling and privacy noise); give the largest harm you accept, > 0`,
    );
}

export interface CheckedPlan {
  plan: RolloutPlan;
  power: PowerReport;
}
export interface GivenPlan {
  plan: RolloutPlan;
  derived: { steps: boolean; analysis: boolean };
}

/** The plan as given, validated (coded `bad_request` with every problem); what it left out is noted for deriving. */
export function parsePlan(planInput: unknown): GivenPlan {
  const parsed = RolloutPlan.safeParse(planInput ?? {});
  if (!parsed.success)
    throw new ApiError(
      'bad_request',
      `invalid rollout plan: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    );
  const problems = planProblems(parsed.data);
  if (problems.length > 0)
    throw new ApiError('bad_request', `invalid rollout plan: ${problems.join('; ')}`, { problems });
  const input = (planInput ?? {}) as Record<string, unknown>; // an object: the schema accepted it
  return { plan: parsed.data, derived: { steps: input.steps === undefined, analysis: input.analysis === undefined } };
}

/** The plan with what it left out derived from the fleet, and its power report. */
export async function checkPlan(
  db: D1Database,
  env: PlanSettings,
  modelId: number,
  given: GivenPlan,
  policy: { maxFirstStepPercent: number; minBakeSeconds: number },
): Promise<CheckedPlan> {
  const { derived } = given;
  const [counts, rates, privacy] = await Promise.all([
    fleetOf(db, modelId, windowSeconds(env)),
    ratesOf(db, modelId),
    privacyOf(env, given.plan.analysis),
  ]);
  const fleet: Fleet = rates ? { ...counts, rates } : counts;
  const rule = { ...SEQUENTIAL_RULE, releaseFloor: vars(env).DRIFT_MIN_DEVICES };
  const shape = deriveDefaults(
    {
      ...(derived.steps ? {} : { steps: given.plan.steps }),
      ...(derived.analysis ? {} : { analysis: given.plan.analysis }),
    },
    fleet,
    privacy,
    rule,
    policy.maxFirstStepPercent,
    Math.max(3600, policy.minBakeSeconds),
  );
  const plan: RolloutPlan = { ...given.plan, steps: shape.steps, analysis: shape.analysis };
  return { plan, power: powerReport(plan, fleet, privacy, rule, derived) };
}
