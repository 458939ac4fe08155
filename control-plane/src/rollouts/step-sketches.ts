/**
 * @module rollouts/step-sketches
 * A step's drift sketches (prediction drift within the step): once both arms of the step's
 * sketch cohort have the devices a release needs, both are released on the step's budget, recorded
 * with their ledger entry, acknowledged and judged as drift arms; and the step's budget itself.
 */
import { aggregateStub, layoutForVersion, vars, windowSeconds } from '@modelfleet/server-shared';
import { type SketchAggregate, stepCohort, windowOf } from '@modelfleet/protocol';
import { DELTA } from '../drift/close.ts';
import { epsilonFor, releaseNoiseForRho, rhoFor, rhoSpent } from '../drift/privacy.ts';
import { DEFAULT_DETECT, type DriftVerdict, detectDrift } from '../drift/detect.ts';
import type { Env } from '../env.ts';
import { crashPoint } from '../fault/crash-points.ts';
import { releaseFloor, type StepBudget, stepReleaseRho } from './increments.ts';
import { stepSplit } from './step-budget.ts';
import { type DriftArm } from './judge.ts';
import type { RolloutView } from './machine.ts';

/**
 * The step's two aggregates of `cohort` (challenger and champion version) once both arms have the
 * devices a release needs — the release floor and the plan's smallest minSample — else null.
 */
export async function driftArm(
  env: Env,
  modelId: number,
  version: number,
  since: string,
  cohort = 'all',
  window?: number,
): Promise<DriftArm | null> {
  const row = await env.DB.prepare(
    'SELECT devices, verdict, closed_at FROM drift_windows WHERE model_id = ? AND version = ? AND cohort = ? AND released = 1 AND closed_at >= ? AND (?5 IS NULL OR window = ?5) ORDER BY window DESC LIMIT 1',
  )
    .bind(modelId, version, cohort, since, window ?? null)
    .first<{ devices: number; verdict: string | null; closed_at: string }>();
  if (!row?.verdict) return null;
  return { devices: row.devices, outputs: (JSON.parse(row.verdict) as DriftVerdict).outputs, closedAt: row.closed_at };
}

export async function readyArms(env: Env, r: RolloutView, sequence: number, cohort: string) {
  const need = releaseFloor(env, r);
  const challenger = aggregateStub(env, r.model, r.challenger, sequence, cohort);
  const champion = aggregateStub(env, r.model, r.champion, sequence, cohort);
  const [a, b] = await Promise.all([challenger.status(), champion.status()]);
  return a.devices >= need && b.devices >= need ? { need, challenger, champion } : null;
}

/**
 * What a model's step releases may still spend today (zCDP ρ): ROLLOUT_STEP_EPSILON_PER_DAY minus
 * the day's 'step' entries in the ledger, read only when a release is about to be made (most
 * ticks release nothing). `take` reserves a release's ρ, or says no (and remembers that it did,
 * for the decision's summary).
 */
export function stepBudget(env: Env, modelId: number): StepBudget {
  const cap = rhoFor(vars(env).ROLLOUT_STEP_EPSILON_PER_DAY, DELTA);
  let left: number | undefined;
  const budget = {
    refused: false,
    async take(rho: number): Promise<boolean> {
      left ??=
        cap -
        ((
          await env.DB.prepare(
            "SELECT COALESCE(SUM(rho), 0) AS rho FROM privacy_ledger WHERE model_id = ? AND window = ? AND scope = 'step'",
          )
            .bind(modelId, windowOf(new Date(), windowSeconds(env)))
            .first<{ rho: number }>()
        )?.rho ?? 0);
      // cap · 1e-9: a release's ρ is recomputed from its noise scales, so it may exceed its share by a rounding error.
      if (rho > left + cap * 1e-9) {
        budget.refused = true;
        return false;
      }
      left -= rho;
      return true;
    },
  };
  return budget;
}

/** The step's two aggregates of `cohort` were recorded in D1: their stored releases can go. */
export async function ackArms(env: Env, r: RolloutView, sequence: number, cohort: string): Promise<void> {
  await Promise.all(
    [r.challenger, r.champion].map((version) => aggregateStub(env, r.model, version, sequence, cohort).ack()),
  );
}

export const ledgerStep = (env: Env, modelId: number, rho: number, at: string) =>
  env.DB.prepare(
    "INSERT INTO privacy_ledger (model_id, window, rho, epsilon, delta, released_at, scope, channel) VALUES (?, ?, ?, ?, ?, ?, 'step', 'step-sketches')",
  ).bind(modelId, windowOf(new Date(), windowSeconds(env)), rho, epsilonFor(rho, DELTA), DELTA, at);

/**
 * The step's drift sketches (inputs and outputs against each version's signed baseline, sent by
 * devices in the two ranges), released once — on the drift share of the day's budget, in the
 * ledger — when both arms have enough devices, and tested like a day's window; their output
 * verdicts feed prediction drift and estimated accuracy. Null until then (the daily windows serve).
 */
export async function stepDriftArms(
  env: Env,
  r: RolloutView & { modelId: number },
  sequence: number,
  budget: StepBudget,
): Promise<{ challenger: DriftArm; control: DriftArm } | null> {
  const cohort = stepCohort(r.id, 'sketches');
  const [keptA, keptB] = await Promise.all([
    driftArm(env, r.modelId, r.challenger, '', cohort, sequence),
    driftArm(env, r.modelId, r.champion, '', cohort, sequence),
  ]);
  if (keptA && keptB) {
    await ackArms(env, r, sequence, cohort);
    return { challenger: keptA, control: keptB };
  }
  const ready = await readyArms(env, r, sequence, cohort);
  if (!ready) return null;
  const [la, lb] = await Promise.all([
    layoutForVersion(env, r.model, r.challenger),
    layoutForVersion(env, r.model, r.champion),
  ]);
  if (!la || !lb) return null; // a version without a baseline has no sketches to judge
  const share = stepReleaseRho(env) * stepSplit(r.plan.analysis).sketches; // the sketches channel's share (step-budget.ts)
  const [askA, askB] = [releaseNoiseForRho(la, share), releaseNoiseForRho(lb, share)];
  if (!(await budget.take(Math.max(rhoSpent(la, askA), rhoSpent(lb, askB))))) return null;
  const [ra, rb] = await Promise.all([
    ready.challenger.release(ready.need, askA),
    ready.champion.release(ready.need, askB),
  ]);
  await crashPoint(env, 'step-sketches:after-release');
  if (!ra.released || !rb.released || !ra.noise || !rb.noise) return null;
  const [na, nb] = [ra.noise, rb.noise];
  const spent = Math.max(rhoSpent(la, na), rhoSpent(lb, nb)); // disjoint devices in the two arms: the larger spend
  const at = new Date().toISOString();
  const [va, vb] = [
    detectDrift(la, ra.released, { ...DEFAULT_DETECT, minDevices: ready.need, noise: na }),
    detectDrift(lb, rb.released, { ...DEFAULT_DETECT, minDevices: ready.need, noise: nb }),
  ];
  const row = (version: number, x: SketchAggregate, verdict: DriftVerdict, noise: typeof na) =>
    env.DB.prepare(
      'INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, aggregate, verdict, alarm, noise_sigma, noise, closed_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)',
    ).bind(
      r.modelId,
      version,
      sequence,
      cohort,
      x.devices,
      JSON.stringify(x),
      JSON.stringify(verdict),
      verdict.alarm ? 1 : 0,
      noise.components,
      JSON.stringify(noise),
      at,
    );
  await env.DB.batch([
    row(r.challenger, ra.released, va, na),
    row(r.champion, rb.released, vb, nb),
    ledgerStep(env, r.modelId, spent, at),
  ]);
  await crashPoint(env, 'step-sketches:after-commit');
  await ackArms(env, r, sequence, cohort);
  return {
    challenger: { devices: ra.released.devices, outputs: va.outputs, closedAt: at },
    control: { devices: rb.released.devices, outputs: vb.outputs, closedAt: at },
  };
}
