/**
 * @module rollout-power
 * The power report of a rollout plan (control-plane/src/rollouts/power.ts computes it): for each
 * step, the devices each arm is expected to see per day, and per metric the standard error of the
 * challenger − control difference, the minimum detectable effect (MDE) and the time until the
 * arms hold the sample that decides. Returned by plan-check, by rollout creation (and kept in its
 * audit record), and read by the CLI and the console.
 */
import { z } from 'zod';
import { Metric, RolloutPlan } from './rollout.ts';

export const MetricPower = z.object({
  metric: Metric,
  tolerance: z.number(),
  /** Rate the binomial spread is computed at (the fleet's observed rate, else a typical one); null for metrics judged without an SE. */
  rate: z.number().nullable(),
  /** SE of the difference at one decision's reachable sample; null when judged without an SE or with no devices. */
  standardError: z.number().nullable(),
  /**
   * The margin a harmless challenger must stay below the tolerance by to pass with the stated
   * power — (k + z)·SE (fixed) or the sequence's half-width + z·SE (sequential) — at the step's
   * reachable sample; it passes only when MDE ≤ tolerance. Null: no SE (or no devices).
   */
  mde: z.number().nullable(),
  /** Devices per arm at which this metric decides (also at least minSample and the release floor); null: never. */
  requiredPerArm: z.number().nullable(),
  /** Seconds from the step's start until both arms hold requiredPerArm (null: not within the reachable evidence). */
  secondsToDecision: z.number().nullable(),
  canDecide: z.boolean(),
});
export type MetricPower = z.infer<typeof MetricPower>;

export const StepPower = z.object({
  step: z.number().int(),
  percent: z.number(),
  bakeSeconds: z.number(),
  /** Expected devices per day in each arm (control: the control range, or every champion device above 50 %). */
  devicesPerDay: z.object({ challenger: z.number(), control: z.number() }),
  /** The last step (100 %) has no control range: it is not counted in canDecide. */
  judged: z.boolean(),
  metrics: z.array(MetricPower),
  canDecide: z.boolean(),
  secondsToDecision: z.number().nullable(),
  /** Bake intervals until a decision (ceil(time / bake)); null with a bake of 0 or no decision. */
  bakesToDecision: z.number().nullable(),
});
export type StepPower = z.infer<typeof StepPower>;

export const PowerReport = z.object({
  fleet: z.object({
    /** Devices per day reporting health for the model (median of its recent daily windows). */
    devicesPerDay: z.number(),
    /** Daily windows it rests on; 0: no fleet data yet (the plan cannot be assessed). */
    windows: z.number().int(),
    basis: z.string(),
    /** The telemetry window "per day" figures are per (WINDOW_SECONDS; 86,400 in production). */
    windowSeconds: z.number().int().positive().optional(),
    /** Each rate metric's device-level rate on the fleet, where a released health window gives it. */
    rates: z.record(z.string(), z.number()).optional(),
  }),
  /** The step's health release: its ε a day, the health channel's share of it, the noise σ (devices) on each count. */
  privacy: z.object({ epsilonPerDay: z.number(), healthShare: z.number(), noiseSigma: z.number() }),
  /**
   * The step's decision rule: 'sequential' (an always-valid confidence sequence over the step's
   * increments at family level alpha) or 'fixed' (observed ± seMultiplier·SE on one release).
   */
  rule: z.object({
    kind: z.enum(['fixed', 'sequential']).default('fixed'),
    seMultiplier: z.number(),
    alpha: z.number().default(0.05),
    power: z.number(),
    zPower: z.number(),
    evidenceDays: z.number(),
    releaseFloor: z.number(),
  }),
  steps: z.array(StepPower),
  canDecide: z.boolean(),
  /** no-fleet-data: nothing to assess yet (a documented hold, not a refusal). */
  status: z.enum(['decides', 'cannot-decide', 'no-fleet-data']),
  /** Why it cannot decide, one line per metric and step. */
  problems: z.array(z.string()),
  /** Changes that would make it decide, each a concrete figure. */
  suggestions: z.array(z.string()),
  /** Where the plan's steps and analysis came from: given, or derived from the fleet. */
  derived: z.object({ steps: z.boolean(), analysis: z.boolean() }),
});
export type PowerReport = z.infer<typeof PowerReport>;

/** `POST …/rollouts/preview` body: a plan to assess (nothing is created). */
export const PlanCheckRequest = z.strictObject({ plan: z.unknown().optional() });
export const PlanCheckResponse = z.object({
  /** The plan as it would be created: what the request left out, derived from the fleet. */
  plan: RolloutPlan,
  power: PowerReport,
  /** The model's rollout-policy rules the plan breaks (binding for publishers only). */
  policyViolations: z.array(z.string()),
  /** What creating it would do for the caller's role: refused (publisher), warned (operator, or no fleet data) or allowed. */
  outcome: z.enum(['allowed', 'warned', 'refused']),
  warnings: z.array(z.string()),
});
export type PlanCheckResponse = z.infer<typeof PlanCheckResponse>;
