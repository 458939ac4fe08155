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
import { vars } from '@modelfleet/server-shared';
import type { HealthSummary } from '../drift/health-summary.ts';
import type { NetworkCounts } from '../drift/networks.ts';
import type { Env } from '../env.ts';
import { stepIncrements } from './increments.ts';
import { OUTPUT_METRICS } from './step-budget.ts';
import {
  type Arm,
  type Decision,
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
import { driftArm, stepBudget, stepDriftArms } from './step-sketches.ts';

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
