/**
 * @module drift/close
 * Window close (docs/architecture.md §7): release the window's aggregate once, with calibrated discrete Gaussian
 * noise, only if enough devices contributed; record the privacy spend in the ledger; run the drift
 * tests on what was released. Idempotent: a closed window answers with what it released.
 *
 * Crash-safe: each aggregate turns its raw sums into a stored, noised release (aggregator.ts),
 * this records them in D1 in one batch keyed by the window, and only then acknowledges them; a
 * crash at any step leaves either the raw sums or the stored release, and the next close (the next
 * cron run, or an operator's) completes the window from it — never with fresh noise.
 */
import { type Aggregator, aggregateStub, layoutForVersion, vars } from '@modelfleet/server-shared';
import { DAY_SECONDS, type ReleaseNoise, healthLayout, windowsIn } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { crashPoint } from '../fault/crash-points.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel } from '../registry/models.ts';
import { DEFAULT_DETECT, detectDrift } from './detect.ts';
import { type NetworkCounts, networkShortfall } from './networks.ts';
import { type EventInput, enqueueEvent, eventStatements } from '../webhooks/events.ts';
import { type HealthSummary, summarizeHealth } from './health-summary.ts';
import { DELTA, HEALTH_SHARE, HEALTH_SPLIT, epsilonFor, releaseNoiseForRho, rhoFor, rhoSpent } from './privacy.ts';
import { type RetrainDecision, retrainDecision } from './retrain.ts';

export { DELTA };

/** What an aggregate's release() answers: the noised sums (or null) with their σ, stored until acknowledged. */
export type Release = Awaited<ReturnType<Aggregator['release']>>;

export interface WindowResult {
  model: string;
  version: number;
  window: number;
  devices: number;
  released: boolean;
  alarm: boolean;
  /** σ of the noise on the component sums (the smooth test's input); `noise` has every group. */
  noiseSigma: number | null;
  noise: ReleaseNoise | null;
  verdict: ReturnType<typeof detectDrift> | null;
  /** The retrain trigger after this window (null when nothing was released). */
  retrain: RetrainDecision | null;
  /** Device health released with the window (its own aggregate, on HEALTH_SHARE of the budget). */
  health: HealthSummary | null;
  healthDevices: number;
}

export async function closeWindow(env: Env, model: string, version: number, window: number, actor: string): Promise<WindowResult> {
  const m = await findModel(env.DB, model);
  const recorded = await recordedWindow(env, m.id, model, version, window);
  if (recorded) return recorded;
  const layout = await layoutForVersion(env, model, version); // null: no baseline, health only
  const health = await healthLayout();
  const epsilon = vars(env).DRIFT_EPSILON_PER_DAY;
  const minDevices = vars(env).DRIFT_MIN_DEVICES;
  const rho = rhoFor(epsilon, DELTA);
  const stub = (cohort?: string) => aggregateStub(env, model, version, window, cohort);
  // Each aggregate keeps its release until it is recorded below and acknowledged, so a crash
  // anywhere up to the ack is completed by the next call, on the very same noised sums (and σ).
  // Health first: when it is released it takes HEALTH_SHARE of the window's ρ, otherwise the drift
  // release keeps the whole budget (device counts, which decide this, are public — docs/drift-and-privacy.md).
  const healthAsked = releaseNoiseForRho(health, layout ? rho * HEALTH_SHARE : rho, HEALTH_SPLIT);
  // Counts of the networks behind each aggregate (SPEC 11.3); the aggregates keep them after a release.
  const [nAll, nHealth, nControl] = await Promise.all(['all', 'health', 'health-control'].map((cohort) => stub(cohort).networkCounts()));
  const h = await stub('health').release(minDevices, healthAsked);
  await crashPoint(env, 'close:after-health-release');
  // A rollout's control devices report into their own aggregate: disjoint devices, so releasing it
  // with the same noise costs no more budget (parallel composition).
  const hc = await stub('health-control').release(minDevices, healthAsked);
  const healthNoise = h.noise ?? hc.noise ?? healthAsked;
  const healthReleased = !!(h.released || hc.released);
  const asked = layout ? releaseNoiseForRho(layout, healthReleased ? rho * (1 - HEALTH_SHARE) : rho) : null;
  const r = layout && asked ? await stub().release(minDevices, asked) : { devices: 0, released: null, noise: null };
  await crashPoint(env, 'close:after-release');
  const noise = r.noise;
  const sigma = noise?.components ?? 0;
  const healthSummary = h.released ? summarizeHealth(h.released) : null;
  const detected = layout && noise && r.released
    ? detectDrift(layout, r.released, { ...DEFAULT_DETECT, minDevices, noise }, { feedback: feedbackOf(healthSummary), metricsAccuracy: await metricsAccuracy(env, m.id, version) })
    : null;
  // An alarm that a few networks could have made by inventing devices is withheld, and says so.
  const shortfall = networkShortfall(nAll!, vars(env).DRIFT_MIN_NETWORKS);
  const verdict = detected?.alarm && shortfall ? { ...detected, alarm: false, withheld: `alarm withheld: the window ${shortfall}` } : detected;
  // The CUSUM carries over from the version's last released window before this one.
  const previous = await env.DB.prepare('SELECT cusum FROM drift_windows WHERE model_id = ? AND version = ? AND window < ? AND released = 1 ORDER BY window DESC LIMIT 1')
    .bind(m.id, version, window).first<{ cusum: number | null }>();
  const retrain = verdict && !verdict.withheld ? retrainDecision(previous?.cusum ?? 0, verdict) : null;
  const at = new Date().toISOString();
  const db = env.DB;
  const spent = (layout && noise && r.released ? rhoSpent(layout, noise) : 0) + (healthReleased ? rhoSpent(health, healthNoise) : 0);
  const alarmEvent = verdict?.alarm ? driftAlarmEvent(m, version, window, r.devices, sigma, verdict, at) : null;
  const retrainEvent = retrain && retrain.reasons.length > 0 ? retrainRequestedEvent(m, version, window, r.devices, retrain, verdict!, at) : null;
  const events: EventInput[] = [alarmEvent, retrainEvent].filter((e) => e !== null);
  // A health row keeps the released (noised) sums and their summary, never anything raw.
  const healthStatement = (cohort: string, x: Release, networks: NetworkCounts) =>
    db.prepare('INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, aggregate, verdict, alarm, noise, networks, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)')
      .bind(m.id, version, window, cohort, x.devices, x.released ? 1 : 0, x.released ? JSON.stringify(x.released) : null,
        x.released ? JSON.stringify(summarizeHealth(x.released)) : null, x.released ? JSON.stringify(x.noise) : null, JSON.stringify(networks), at);
  try {
    // One batch: the rows, the ledger entry and the audit record land together or not at all. The
    // window's primary key lets exactly one of two concurrent closes (cron and operator) in.
    await db.batch([
      db.prepare('INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, aggregate, verdict, alarm, noise_sigma, noise, cusum, retrain, networks, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .bind(m.id, version, window, 'all', r.devices, r.released ? 1 : 0, r.released ? JSON.stringify(r.released) : null, verdict ? JSON.stringify(verdict) : null, verdict?.alarm ? 1 : 0,
          r.released ? sigma : null, r.released ? JSON.stringify(noise) : null, retrain?.cusum ?? null, retrain ? JSON.stringify(retrain) : null, JSON.stringify(nAll), at),
      healthStatement('health', h, nHealth!),
      ...(hc.devices > 0 ? [healthStatement('health-control', hc, nControl!)] : []),
      ...(spent > 0 ? [db.prepare("INSERT INTO privacy_ledger (model_id, window, rho, epsilon, delta, released_at, channel) VALUES (?, ?, ?, ?, ?, ?, 'window')").bind(m.id, window, spent, epsilonFor(spent, DELTA), DELTA, at)] : []),
      auditStatement(db, { actor, action: 'drift.close', subject: `model/${model}/version/${version}/drift/${window}`, after: { devices: r.devices, released: !!r.released, alarm: !!verdict?.alarm, healthDevices: h.devices, healthReleased: !!h.released } }, at),
      ...events.map((e) => eventStatements(db, e)),
    ]);
  } catch (e) {
    const raced = await recordedWindow(env, m.id, model, version, window);
    if (raced) return raced;
    throw e;
  }
  await crashPoint(env, 'close:after-commit');
  await ackReleases(env, model, version, window, !!layout);
  await crashPoint(env, 'close:after-ack');
  for (const e of events) await enqueueEvent(env, e.id); // a crash before this leaves them to the sweep (webhooks/deliver.ts)
  return {
    model, version, window, devices: r.devices, released: !!r.released, alarm: !!verdict?.alarm, noiseSigma: r.released ? sigma : null, noise: r.released ? noise : null,
    verdict, retrain, health: healthSummary, healthDevices: h.devices,
  };
}

/** The window as recorded in D1, or null; a recorded window's aggregates need their stored releases no more. */
async function recordedWindow(env: Env, modelId: number, model: string, version: number, window: number): Promise<WindowResult | null> {
  const existing = await env.DB.prepare('SELECT devices, released, verdict, alarm, noise_sigma, noise, retrain FROM drift_windows WHERE model_id = ? AND version = ? AND window = ? AND cohort = ?')
    .bind(modelId, version, window, 'all').first<{ devices: number; released: number; verdict: string | null; alarm: number; noise_sigma: number | null; noise: string | null; retrain: string | null }>();
  if (!existing) return null;
  // A close that crashed after its D1 batch left the releases stored: acknowledge them now.
  await ackReleases(env, model, version, window, existing.devices > 0);
  return {
    model, version, window, devices: existing.devices, released: existing.released === 1, alarm: existing.alarm === 1,
    noiseSigma: existing.noise_sigma, noise: existing.noise ? JSON.parse(existing.noise) : null, verdict: existing.verdict ? JSON.parse(existing.verdict) : null,
    retrain: existing.retrain ? JSON.parse(existing.retrain) : null,
    ...(await healthRow(env, modelId, version, window)),
  };
}

/** Drops the releases the window's aggregates kept for this close (the drift one only where there was one). */
async function ackReleases(env: Env, model: string, version: number, window: number, drift: boolean): Promise<void> {
  const cohorts = ['health', 'health-control', ...(drift ? ['all'] : [])];
  await Promise.all(cohorts.map((cohort) => aggregateStub(env, model, version, window, cohort).ack()));
}

/** Label accuracy from the window's released feedback counts (devices that sent labels). */
function feedbackOf(h: HealthSummary | null) {
  if (!h || h.feedback.devices === 0) return null;
  const correct = h.feedback.shares.correct ?? 0;
  const incorrect = h.feedback.shares.incorrect ?? 0;
  return correct + incorrect > 0 ? { devices: h.feedback.devices, accuracy: correct / (correct + incorrect) } : null;
}

/** The version's published `metrics.values.accuracy`, the reference when its baseline has no reliability table. */
async function metricsAccuracy(env: Env, modelId: number, version: number): Promise<number | null> {
  const row = await env.DB.prepare('SELECT metrics FROM versions WHERE model_id = ? AND version = ?').bind(modelId, version).first<{ metrics: string }>();
  const value = row ? (JSON.parse(row.metrics) as { values?: Record<string, unknown> }).values?.accuracy : undefined;
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : null;
}

async function healthRow(env: Env, modelId: number, version: number, window: number): Promise<{ health: HealthSummary | null; healthDevices: number }> {
  const row = await env.DB.prepare("SELECT devices, verdict FROM drift_windows WHERE model_id = ? AND version = ? AND window = ? AND cohort = 'health'")
    .bind(modelId, version, window).first<{ devices: number; verdict: string | null }>();
  return { health: row?.verdict ? JSON.parse(row.verdict) : null, healthDevices: row?.devices ?? 0 };
}

/**
 * Privacy spend per model: ρ adds up across releases; the windows of the last 365 days give the
 * annual ε. `current` is the current window and `seconds` its length: the ledger numbers its rows
 * by window (close.ts, rollouts), so a year is 365 days' worth of windows and "today" (the split's
 * current column) is the current window — a day with day windows.
 */
export async function privacyLedger(env: Env, model: string, current: number, seconds = DAY_SECONDS) {
  const m = await findModel(env.DB, model);
  const since = current - windowsIn(365, seconds);
  const row = await env.DB.prepare('SELECT COUNT(*) AS releases, COALESCE(SUM(rho), 0) AS rho FROM privacy_ledger WHERE model_id = ? AND window > ?')
    .bind(m.id, since).first<{ releases: number; rho: number }>();
  // The split by channel (rollouts/step-budget.ts): the current window's, and the year's.
  const { results } = await env.DB.prepare('SELECT channel, window = ? AS today, COUNT(*) AS releases, COALESCE(SUM(rho), 0) AS rho FROM privacy_ledger WHERE model_id = ? AND window > ? GROUP BY channel, window = ? ORDER BY channel')
    .bind(current, m.id, since, current).all<{ channel: string; today: number; releases: number; rho: number }>();
  const split = (rows: typeof results) => rows.map((r) => ({ channel: r.channel, releases: r.releases, rho: r.rho, epsilon: r.rho > 0 ? epsilonFor(r.rho, DELTA) : 0 }));
  const year = [...new Set(results.map((r) => r.channel))].map((channel) => {
    const rows = results.filter((r) => r.channel === channel);
    return { channel, today: 0, releases: rows.reduce((s, r) => s + r.releases, 0), rho: rows.reduce((s, r) => s + r.rho, 0) };
  });
  return {
    model, delta: DELTA, releasesLastYear: row!.releases, rhoLastYear: row!.rho, epsilonLastYear: row!.rho > 0 ? epsilonFor(row!.rho, DELTA) : 0,
    channels: { today: split(results.filter((r) => r.today === 1)), lastYear: split(year) },
  };
}

type ModelRef = { id: number; name: string };
type Verdict = ReturnType<typeof detectDrift>;

/** A window event's envelope: the id is stable per (kind, model, version, window), so receivers deduplicate. */
function windowEnvelope(kind: 'alarm' | 'retrain', m: ModelRef, version: number, window: number, at: string) {
  return { id: `drift.${kind}/${m.name}/${version}/${window}`, model: m, subject: `versions/${version}/drift/${window}`, time: at };
}

/** An alarmed window: the alarmed features with their p-values and effect sizes. */
function driftAlarmEvent(
  m: ModelRef, version: number, window: number, devices: number, sigma: number, verdict: Verdict, at: string,
): EventInput<'dev.modelfleet.drift.alarm'> {
  const features = verdict.features.filter((f) => f.alarm)
    .map((f) => ({ name: f.name, test: f.test, p: f.p, statistic: f.statistic, effects: f.effects }));
  return {
    ...windowEnvelope('alarm', m, version, window, at), type: 'dev.modelfleet.drift.alarm',
    data: { model: m.name, version, window, devices, noiseSigma: sigma, outputs: verdict.outputs, features },
  };
}

/** A request to the training pipeline for a new model, with the reasons and evidence. */
function retrainRequestedEvent(
  m: ModelRef, version: number, window: number, devices: number, retrain: RetrainDecision, verdict: Verdict, at: string,
): EventInput<'dev.modelfleet.drift.retrain_requested'> {
  return {
    ...windowEnvelope('retrain', m, version, window, at), type: 'dev.modelfleet.drift.retrain_requested',
    data: {
      model: m.name, version, window, devices, reasons: retrain.reasons, windowScore: retrain.score, outputs: verdict.outputs,
      alarmedFeatures: verdict.features.filter((f) => f.alarm).map((f) => f.name),
    },
  };
}
