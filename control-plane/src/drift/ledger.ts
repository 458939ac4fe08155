/**
 * @module drift/ledger
 * Privacy spend per model, read from the privacy ledger that window closes (close.ts) and rollout
 * steps (rollouts/increments.ts, analysis.ts) write: ρ adds up across releases, so the year's ε
 * is the conversion of the year's summed ρ.
 */
import { DAY_SECONDS, windowsIn } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { findModel } from '../registry/models.ts';
import { DELTA, epsilonFor } from './privacy.ts';

type ChannelRow = { channel: string; today: number; releases: number; rho: number };

/**
 * Privacy spend per model: ρ adds up across releases; the windows of the last 365 days give the
 * annual ε. `current` is the current window and `seconds` its length: the ledger numbers its rows
 * by window (close.ts, rollouts), so a year is 365 days' worth of windows and "today" (the split's
 * current column) is the current window — a day with day windows.
 */
export async function privacyLedger(env: Env, model: string, current: number, seconds = DAY_SECONDS) {
  const m = await findModel(env.DB, model);
  const since = current - windowsIn(365, seconds);
  const row = await env.DB.prepare(
    'SELECT COUNT(*) AS releases, COALESCE(SUM(rho), 0) AS rho FROM privacy_ledger WHERE model_id = ? AND window > ?',
  )
    .bind(m.id, since)
    .first<{ releases: number; rho: number }>();
  // The split by channel (rollouts/step-budget.ts): the current window's, and the year's.
  const { results } = await env.DB.prepare(
    'SELECT channel, window = ? AS today, COUNT(*) AS releases, COALESCE(SUM(rho), 0) AS rho FROM privacy_ledger ' +
      'WHERE model_id = ? AND window > ? GROUP BY channel, window = ? ORDER BY channel',
  )
    .bind(current, m.id, since, current)
    .all<ChannelRow>();
  const epsilonOf = (rho: number) => (rho > 0 ? epsilonFor(rho, DELTA) : 0);
  const split = (rows: ChannelRow[]) =>
    rows.map((r) => ({ channel: r.channel, releases: r.releases, rho: r.rho, epsilon: epsilonOf(r.rho) }));
  const year = [...new Set(results.map((r) => r.channel))].map((channel) => {
    const rows = results.filter((r) => r.channel === channel);
    const sum = (of: (r: ChannelRow) => number) => rows.reduce((s, r) => s + of(r), 0);
    return { channel, today: 0, releases: sum((r) => r.releases), rho: sum((r) => r.rho) };
  });
  return {
    model,
    delta: DELTA,
    releasesLastYear: row!.releases,
    rhoLastYear: row!.rho,
    epsilonLastYear: epsilonOf(row!.rho),
    channels: { today: split(results.filter((r) => r.today === 1)), lastYear: split(year) },
  };
}
