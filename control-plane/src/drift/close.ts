/**
 * @module drift/close
 * Window close (docs/architecture.md §7): release the window's aggregate once, with calibrated
 * discrete Gaussian noise, only if enough devices contributed; record the privacy spend in the ledger; run the drift
 * tests on what was released. Idempotent: a closed window answers with what it released.
 *
 * Crash-safe: each aggregate turns its raw sums into a stored, noised release (aggregator.ts),
 * this records them in D1 in one batch keyed by the window, and only then acknowledges them; a
 * crash at any step leaves either the raw sums or the stored release, and the next close (the next
 * cron run, or an operator's) completes the window from it — never with fresh noise.
 *
 * The steps live beside this flow: window-release.ts (the noised releases and their ack),
 * window-verdict.ts (drift tests and the retrain trigger), window-events.ts (the CloudEvents).
 */
import { layoutForVersion, vars } from '@modelfleet/server-shared';
import type { ReleaseNoise } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { crashPoint } from '../fault/crash-points.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel } from '../registry/models.ts';
import { type EventInput, enqueueEvent, eventStatements } from '../webhooks/events.ts';
import type { detectDrift } from './detect.ts';
import { type HealthSummary, summarizeHealth } from './health-summary.ts';
import type { NetworkCounts } from './networks.ts';
import { DELTA, epsilonFor } from './privacy.ts';
import type { RetrainDecision } from './retrain.ts';
import { windowEvents } from './window-events.ts';
import { type Release, type WindowKey, type WindowReleases, ackReleases, releaseWindow } from './window-release.ts';
import { type WindowVerdict, judgeWindow } from './window-verdict.ts';

export { DELTA };
export type { Release };
// The ledger's reader lived here; routes import it from this module.
export { privacyLedger } from './ledger.ts';

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

export async function closeWindow(
  env: Env,
  model: string,
  version: number,
  window: number,
  actor: string,
): Promise<WindowResult> {
  const key: WindowKey = { model, version, window };
  const m = await findModel(env.DB, model);
  const recorded = await recordedWindow(env, m.id, key);
  if (recorded) return recorded;
  const layout = await layoutForVersion(env, model, version); // null: no baseline, health only
  const minDevices = vars(env).DRIFT_MIN_DEVICES;
  const releases = await releaseWindow(env, key, layout, minDevices);
  const { drift: r, health: h } = releases;
  const sigma = r.noise?.components ?? 0;
  const healthSummary = h.released ? summarizeHealth(h.released) : null;
  const judged = await judgeWindow(env, m.id, key, layout, releases, healthSummary, minDevices);
  const at = new Date().toISOString();
  const events = windowEvents(m, key, r.devices, sigma, judged, at);
  try {
    // One batch: the rows, the ledger entry and the audit record land together or not at all. The
    // window's primary key lets exactly one of two concurrent closes (cron and operator) in.
    await env.DB.batch(windowStatements(env.DB, { id: m.id, key, actor, at }, releases, judged, events));
  } catch (e) {
    const raced = await recordedWindow(env, m.id, key);
    if (raced) return raced;
    throw e;
  }
  await crashPoint(env, 'close:after-commit');
  await ackReleases(env, key, !!layout);
  await crashPoint(env, 'close:after-ack');
  for (const e of events) await enqueueEvent(env, e.id); // a crash before this leaves them to the sweep (webhooks/deliver.ts)
  const { verdict, retrain } = judged;
  return {
    model,
    version,
    window,
    devices: r.devices,
    released: !!r.released,
    alarm: !!verdict?.alarm,
    noiseSigma: r.released ? sigma : null,
    noise: r.released ? r.noise : null,
    verdict,
    retrain,
    health: healthSummary,
    healthDevices: h.devices,
  };
}

/** Who closes which window, when: what every statement of the window's record carries. */
interface Closing {
  id: number;
  key: WindowKey;
  actor: string;
  at: string;
}

/** The window's D1 record: its rows (drift, health, control health), the ledger entry, the audit record, its events. */
function windowStatements(
  db: D1Database,
  c: Closing,
  releases: WindowReleases,
  judged: WindowVerdict,
  events: EventInput[],
): D1PreparedStatement[] {
  const {
    id,
    key: { model, version, window },
    actor,
    at,
  } = c;
  const { drift: r, health: h, control: hc, networks, spent } = releases;
  const { verdict, retrain } = judged;
  const released = !!r.released;
  const driftRow = db
    .prepare(
      'INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, aggregate, verdict, alarm, ' +
        'noise_sigma, noise, cusum, retrain, networks, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .bind(
      id,
      version,
      window,
      'all',
      r.devices,
      released ? 1 : 0,
      released ? JSON.stringify(r.released) : null,
      verdict ? JSON.stringify(verdict) : null,
      verdict?.alarm ? 1 : 0,
      released ? (r.noise?.components ?? 0) : null,
      released ? JSON.stringify(r.noise) : null,
      retrain?.cusum ?? null,
      retrain ? JSON.stringify(retrain) : null,
      JSON.stringify(networks.all),
      at,
    );
  const ledger = db
    .prepare(
      "INSERT INTO privacy_ledger (model_id, window, rho, epsilon, delta, released_at, channel) VALUES (?, ?, ?, ?, ?, ?, 'window')",
    )
    .bind(id, window, spent, epsilonFor(spent, DELTA), DELTA, at);
  const audit = auditStatement(
    db,
    {
      actor,
      action: 'drift.close',
      subject: `model/${model}/version/${version}/drift/${window}`,
      after: {
        devices: r.devices,
        released,
        alarm: !!verdict?.alarm,
        healthDevices: h.devices,
        healthReleased: !!h.released,
      },
    },
    at,
  );
  return [
    driftRow,
    healthStatement(db, c, 'health', h, networks.health!),
    ...(hc.devices > 0 ? [healthStatement(db, c, 'health-control', hc, networks.control!)] : []),
    ...(spent > 0 ? [ledger] : []),
    audit,
    ...events.map((e) => eventStatements(db, e)),
  ];
}

/** A health row keeps the released (noised) sums and their summary, never anything raw. */
function healthStatement(
  db: D1Database,
  c: Closing,
  cohort: string,
  x: Release,
  networks: NetworkCounts,
): D1PreparedStatement {
  const released = x.released;
  return db
    .prepare(
      'INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, aggregate, verdict, alarm, noise, ' +
        'networks, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)',
    )
    .bind(
      c.id,
      c.key.version,
      c.key.window,
      cohort,
      x.devices,
      released ? 1 : 0,
      released ? JSON.stringify(released) : null,
      released ? JSON.stringify(summarizeHealth(released)) : null,
      released ? JSON.stringify(x.noise) : null,
      JSON.stringify(networks),
      c.at,
    );
}

/** The window as recorded in D1, or null; a recorded window's aggregates need their stored releases no more. */
async function recordedWindow(env: Env, modelId: number, key: WindowKey): Promise<WindowResult | null> {
  const { model, version, window } = key;
  const existing = await env.DB.prepare(
    'SELECT devices, released, verdict, alarm, noise_sigma, noise, retrain FROM drift_windows ' +
      'WHERE model_id = ? AND version = ? AND window = ? AND cohort = ?',
  )
    .bind(modelId, version, window, 'all')
    .first<{
      devices: number;
      released: number;
      verdict: string | null;
      alarm: number;
      noise_sigma: number | null;
      noise: string | null;
      retrain: string | null;
    }>();
  if (!existing) return null;
  // A close that crashed after its D1 batch left the releases stored: acknowledge them now.
  await ackReleases(env, key, existing.devices > 0);
  const parsed = (json: string | null) => (json ? JSON.parse(json) : null);
  return {
    model,
    version,
    window,
    devices: existing.devices,
    released: existing.released === 1,
    alarm: existing.alarm === 1,
    noiseSigma: existing.noise_sigma,
    noise: parsed(existing.noise),
    verdict: parsed(existing.verdict),
    retrain: parsed(existing.retrain),
    ...(await healthRow(env, modelId, version, window)),
  };
}

async function healthRow(
  env: Env,
  modelId: number,
  version: number,
  window: number,
): Promise<{ health: HealthSummary | null; healthDevices: number }> {
  const row = await env.DB.prepare(
    "SELECT devices, verdict FROM drift_windows WHERE model_id = ? AND version = ? AND window = ? AND cohort = 'health'",
  )
    .bind(modelId, version, window)
    .first<{ devices: number; verdict: string | null }>();
  return { health: row?.verdict ? JSON.parse(row.verdict) : null, healthDevices: row?.devices ?? 0 };
}
