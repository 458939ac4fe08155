/**
 * @module rollout-view
 * A staged rollout as the API answers it (`/v1/models/{model}/rollouts`, `/v1/rollouts/{id}`):
 * the view the coordinator's state machine moves, the analysis's last decision with its
 * evidence, and (one rollout) its audit history. The CLI and the console read these; the
 * control plane's state machine (rollouts/machine.ts) is typed by them.
 */
import { z } from 'zod';
import { AuditRecord } from './api.ts';
import { RolloutPlan } from './rollout.ts';
import { PowerReport } from './rollout-power.ts';

export const ROLLOUT_STATES = ['draft', 'running', 'paused', 'promoted', 'rolled-back', 'aborted'] as const;
export const RolloutState = z.enum(ROLLOUT_STATES);
export type RolloutState = z.infer<typeof RolloutState>;

/** Operator actions on a rollout (`POST /v1/rollouts/{id}/{action}`). */
export const OPERATOR_ACTIONS = ['promote', 'pause', 'resume', 'abort', 'kill'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export const RolloutView = z.object({
  id: z.string(),
  model: z.string(),
  champion: z.number().int(),
  challenger: z.number().int(),
  plan: RolloutPlan,
  state: RolloutState,
  step: z.number().int(),
  percent: z.number(),
  stepStartedAt: z.string().nullable(),
});
export type RolloutView = z.infer<typeof RolloutView>;

/** One safety metric's judgement in a decision: challenger against control, with its evidence. */
export const MetricResult = z.object({
  metric: z.string(),
  status: z.enum(['pass', 'fail', 'inconclusive', 'no_data']),
  threshold: z.number(),
  /** challenger − champion (rates, latency); champion − challenger for accuracies. */
  observed: z.number().nullable(),
  standardError: z.number().nullable(),
  sample: z.object({ challenger: z.number(), control: z.number() }),
  freshness: z.string().nullable(),
  critical: z.boolean(),
  /** Sequential judgement only: the always-valid confidence sequence at its level α. */
  sequence: z.object({ lower: z.number(), upper: z.number(), alpha: z.number(), releases: z.number() }).optional(),
  /** Sequential and undecided: the look that would decide it if the estimate held (null: none within six looks). */
  projection: z
    .object({ outcome: z.enum(['pass', 'fail']), devicesPerArm: z.number(), seconds: z.number().nullable() })
    .nullable()
    .optional(),
});
export type MetricResult = z.infer<typeof MetricResult>;

/** The analysis's last decision on the current step; null until the first bake ended. */
export const RolloutDecision = z.object({
  outcome: z.enum(['promote', 'hold', 'rollback']),
  summary: z.string(),
  step: z.number().int(),
  at: z.string(),
  metrics: z.array(MetricResult),
});
export type RolloutDecision = z.infer<typeof RolloutDecision>;

export const RolloutWithDecision = RolloutView.extend({ decision: RolloutDecision.nullable() });
export type RolloutWithDecision = z.infer<typeof RolloutWithDecision>;

/** `GET /v1/models/{model}/rollouts`, newest first. */
export const RolloutList = z.object({ rollouts: z.array(RolloutWithDecision) });
export type RolloutList = z.infer<typeof RolloutList>;

/** `GET /v1/rollouts/{id}`: the rollout, its last decision and its audit history, oldest first. */
export const RolloutDetail = RolloutWithDecision.extend({ history: z.array(AuditRecord) });
export type RolloutDetail = z.infer<typeof RolloutDetail>;

/** `POST /v1/models/{model}/rollouts`: the rollout, its plan's power, and what may keep it from deciding. */
export const RolloutCreated = RolloutView.extend({ power: PowerReport, warnings: z.array(z.string()) });
export type RolloutCreated = z.infer<typeof RolloutCreated>;

/** Body of `POST /v1/models/{model}/rollouts`. */
export const CreateRolloutRequest = z.strictObject({
  challenger: z.number().int().min(1),
  plan: z
    .unknown()
    .optional()
    .meta({
      description:
        'RolloutPlan; omitted steps and analysis are derived from the fleet ' +
        '(no fleet data: 1 → 5 → 25 → 50 → 100 % with 1 h bakes and the default safety metrics)',
    }),
  start: z.boolean().default(true),
  reason: z.string().max(500).optional(),
});

/** Body of `POST /v1/rollouts/{id}/{action}`. */
export const RolloutActionRequest = z.strictObject({
  /** The step the operator saw: a promote that raced another one fails instead of advancing twice. */
  step: z.number().int().min(0).optional(),
  reason: z.string().max(500).optional(),
});
