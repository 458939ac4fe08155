/**
 * @module rollouts/analysis
 * The step analysis (docs/architecture.md §8): challenger vs champion on each configured metric, from the
 * device health released with each day's window (drift/close.ts) — the challenger version's
 * devices against the champion version's, in the latest window closed after the step started.
 * Every comparison carries its threshold, observed difference, sample sizes and data freshness.
 *
 * Rates are device-level shares (one device, one vote). A metric passes when the upper end of
 * the difference (observed + 2 SE, SE from the share's binomial spread and the DP noise) is within
 * tolerance, fails when the lower end (observed − 2 SE) exceeds it, and is inconclusive between;
 * below `minSample` devices in either arm it has no data. NoData and inconclusive hold; a failed
 * critical metric rolls back; all passing promotes.
 *
 * The control arm is the rollout's control range (its devices' champion health is aggregated
 * apart at ingest) when it reported, else every champion device; with a control range, a
 * sample-ratio check joins the metrics. Prediction drift and estimated accuracy come from the
 * versions' released drift verdicts (judgeOutputs); label accuracy from the apps' feedback in the
 * health records. Devices in a step's ranges also send a record, and with a baseline a sketch,
 * per step (web-sdk step-health), so a step need not wait for the day's window for either kind of
 * metric. The step's health records are released in increments whenever both arms have enough new
 * devices (increments.ts) and judged, summed, after every increment by an always-valid confidence
 * sequence (sequential.ts) instead of ± 2 SE: checking after each release never inflates the
 * error. Its sketches are released once, when both arms have enough devices.
 */
import { aggregateStub, layoutForVersion, vars, windowSeconds } from '@modelfleet/server-shared';
import { type SketchAggregate, stepCohort, windowOf } from '@modelfleet/protocol';
import { DELTA } from '../drift/close.ts';
import type { HealthSummary } from '../drift/health-summary.ts';
import { epsilonFor, releaseNoiseForRho, rhoFor, rhoSpent } from '../drift/privacy.ts';
import { DEFAULT_DETECT, type DriftVerdict, detectDrift } from '../drift/detect.ts';
import type { NetworkCounts } from '../drift/networks.ts';
import type { Env } from '../env.ts';
import { crashPoint } from '../fault/crash-points.ts';
import { releaseFloor, type StepBudget, stepIncrements, stepReleaseRho } from './increments.ts';
import { OUTPUT_METRICS, stepSplit } from './step-budget.ts';
import {
  type Arm,
  type Decision,
  type DriftArm,
  LOAD_METRICS,
  type MetricResult,
  type Rule,
  isRateMetric,
  judge,
  judgeOutputs,
  networkFloor,
  sampleRatio,
} from './judge.ts';
import type { RolloutView } from './machine.ts';
import { alphaPerMetric, projectDecision } from './sequential.ts';

export type { Decision, MetricResult } from './judge.ts';

/** The latest released health window of a version (in a cohort) that closed after `since` (or exactly `window`). */
async function arm(
  env: Env,
  modelId: number,
  version: number,
  since: string,
  cohort = 'health',
  window?: number,
): Promise<Arm | null> {
  const row = await env.DB.prepare(
    'SELECT devices, verdict, noise, networks, closed_at FROM drift_windows WHERE model_id = ? AND version = ? AND cohort = ? AND released = 1 AND closed_at >= ? AND (?5 IS NULL OR window = ?5) ORDER BY window DESC LIMIT 1',
  )
    .bind(modelId, version, cohort, since, window ?? null)
    .first<{ devices: number; verdict: string; noise: string | null; networks: string | null; closed_at: string }>();
  if (!row) return null;
  const noise = row.noise ? ((JSON.parse(row.noise) as { categoricalBins?: number | null }).categoricalBins ?? 0) : 0;
  return {
    devices: row.devices,
    summary: JSON.parse(row.verdict) as HealthSummary,
    noise,
    closedAt: row.closed_at,
    networks: row.networks ? (JSON.parse(row.networks) as NetworkCounts) : null,
  };
}

async function driftArm(
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

/**
 * The step's two aggregates of `cohort` (challenger and champion version) once both arms have the
 * devices a release needs — the release floor and the plan's smallest minSample — else null.
 */
async function readyArms(env: Env, r: RolloutView, sequence: number, cohort: string) {
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
function stepBudget(env: Env, modelId: number): StepBudget {
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
async function ackArms(env: Env, r: RolloutView, sequence: number, cohort: string): Promise<void> {
  await Promise.all(
    [r.challenger, r.champion].map((version) => aggregateStub(env, r.model, version, sequence, cohort).ack()),
  );
}

const ledgerStep = (env: Env, modelId: number, rho: number, at: string) =>
  env.DB.prepare(
    "INSERT INTO privacy_ledger (model_id, window, rho, epsilon, delta, released_at, scope, channel) VALUES (?, ?, ?, ?, ?, ?, 'step', 'step-sketches')",
  ).bind(modelId, windowOf(new Date(), windowSeconds(env)), rho, epsilonFor(rho, DELTA), DELTA, at);

/**
 * The step's drift sketches (inputs and outputs against each version's signed baseline, sent by
 * devices in the two ranges), released once — on the drift share of the day's budget, in the
 * ledger — when both arms have enough devices, and tested like a day's window; their output
 * verdicts feed prediction drift and estimated accuracy. Null until then (the daily windows serve).
 */
async function stepDriftArms(
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

/**
 * An undecided sequential metric's projection (sequential.ts projectDecision): the look that would
 * decide it if its estimate held, and the time to it at the pace the step's arms have filled since
 * the step started. For the console's evidence table.
 */
function project(m: MetricResult, step: { challenger: Arm; control: Arm; reported: number }, since: string): void {
  if (m.status !== 'inconclusive' || !m.sequence || m.observed === null || m.standardError === null) return;
  const elapsed = (Date.now() - Date.parse(since)) / 1000;
  m.projection = projectDecision({
    observed: m.observed,
    variance: m.standardError ** 2,
    tolerance: m.threshold,
    alpha: m.sequence.alpha,
    devices: Math.min(m.sample.challenger, m.sample.control),
    releases: m.sequence.releases,
    noiseSigma: Math.max(step.challenger.noise, step.control.noise),
    reported: step.reported,
    perSecond: elapsed > 0 ? step.reported / elapsed : null,
  });
}

export async function analyse(env: Env, r: RolloutView & { modelId: number }): Promise<Decision> {
  const since = r.stepStartedAt ?? new Date(0).toISOString();
  const sequence = env.AGGREGATES
    ? (await env.DB.prepare('SELECT sequence FROM models WHERE id = ?').bind(r.modelId).first<{ sequence: number }>())
        ?.sequence
    : undefined;
  const budget = stepBudget(env, r.modelId);
  const step = sequence === undefined ? null : await stepIncrements(env, r, sequence, budget);
  // The step's own records when there are enough; else the day's windows: the control range when
  // its devices reported (equal size, same days), else every champion device.
  const [challenger, controlRange, champion] = step
    ? [step.challenger, step.control, null]
    : await Promise.all([
        arm(env, r.modelId, r.challenger, since),
        arm(env, r.modelId, r.champion, since, 'health-control'),
        arm(env, r.modelId, r.champion, since),
      ]);
  const control = controlRange ?? champion;
  const needsOutputs = r.plan.analysis.some((c) => OUTPUT_METRICS.has(c.metric));
  // Output metrics: the step's own sketches (challenger vs control range) when both arms sent
  // enough; else the versions' daily windows (the challenger vs every champion device).
  const stepDrift = needsOutputs && sequence !== undefined ? await stepDriftArms(env, r, sequence, budget) : null;
  const [challengerDrift, championDrift] = stepDrift
    ? [stepDrift.challenger, stepDrift.control]
    : needsOutputs
      ? await Promise.all([driftArm(env, r.modelId, r.challenger, since), driftArm(env, r.modelId, r.champion, since)])
      : [null, null];
  // The step's increments are checked after every release: the always-valid rule, α split over the
  // plan's rate metrics. A day's window is one look at its own data: the fixed rule, as before.
  const rule: Rule = step
    ? { kind: 'sequential', alpha: alphaPerMetric(r.plan.analysis.filter((c) => isRateMetric(c.metric)).length) }
    : { kind: 'fixed' };
  // Load and verify failures: a step's own records carry none (a device sends its step record
  // after predicting with the version it already loaded), so they are judged on the windows' health
  // of the versions — one look each, the fixed rule — whatever the other metrics use.
  const needsLoads = step && r.plan.analysis.some((c) => LOAD_METRICS.has(c.metric));
  const loads = needsLoads
    ? await Promise.all([
        arm(env, r.modelId, r.challenger, since),
        arm(env, r.modelId, r.champion, since, 'health-control'),
        arm(env, r.modelId, r.champion, since),
      ])
    : null;
  const metrics = r.plan.analysis.map((check) => {
    if (OUTPUT_METRICS.has(check.metric)) return judgeOutputs(check, challengerDrift, championDrift);
    if (loads && LOAD_METRICS.has(check.metric)) return judge(check, loads[0], loads[1] ?? loads[2], { kind: 'fixed' });
    return judge(check, challenger, control, rule);
  });
  if (step) for (const m of metrics) project(m, step, since);
  // Both arms hold only devices the targeting admits (control devices name the rollout their ticket gave).
  if (challenger && controlRange)
    metrics.push(sampleRatio(challenger.devices, controlRange.devices, challenger.closedAt));
  // SPEC 11.3: a decision resting on too few client networks is withheld, a rollback included.
  const floor = challenger && control ? networkFloor(challenger, control, vars(env).ROLLOUT_MIN_NETWORKS) : null;
  if (floor) metrics.push(floor);
  const failed = metrics.filter((m) => m.status === 'fail');
  const withheld = floor?.status === 'no_data';
  const outcome = withheld
    ? 'hold'
    : failed.some((m) => m.critical)
      ? 'rollback'
      : metrics.length > 0 && metrics.every((m) => m.status === 'pass')
        ? 'promote'
        : 'hold';
  const pending = metrics.filter((m) => m.status !== 'pass').map((m) => `${m.metric} ${m.status.replace('_', ' ')}`);
  const summary = withheld
    ? `hold: the evidence rests on ${floor!.observed} client networks in the thinner arm (< ${floor!.threshold}); no automatic decision${failed.length ? ` (would fail: ${failed.map((m) => m.metric).join(', ')})` : ''}`
    : outcome === 'rollback'
      ? `roll back: ${failed
          .filter((m) => m.critical)
          .map((m) => `${m.metric} ${m.observed?.toFixed(4)} > ${m.threshold}`)
          .join(', ')}`
      : outcome === 'promote'
        ? `promote: all ${metrics.length} metrics within tolerance`
        : `hold: ${pending.join(', ')}` +
          (budget.refused ? " (today's step privacy budget is spent: waiting for the day's window)" : '');
  return { outcome, summary, step: r.step, at: new Date().toISOString(), metrics };
}
