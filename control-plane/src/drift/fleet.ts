/**
 * @module drift/fleet
 * Devices per version per window, from the health records devices already send (one per device,
 * version and window; counts are public, never noised — docs/drift-and-privacy.md). A closed
 * window's counts are in D1 (drift_windows, cohorts `health` and `health-control`: disjoint
 * devices, so they add up); an open window's are still in its aggregates, read live through
 * their status (a count and a digest, never the sums).
 *
 * @example
 * await fleetWindows(env, 'fraud', 30, new Date()); // { windowSeconds: 86400, current, versions: [1, 2], windows: [...] }
 */
import { aggregateStub, windowSeconds as windowLength } from '@modelfleet/server-shared';
import { type FleetView, windowOf } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { findModel } from '../registry/models.ts';

/** Cohorts a version's health records land in (edge sketches.ts cohortOf). */
const HEALTH_COHORTS = ['health', 'health-control'] as const;
/**
 * Open windows are read from the aggregates of the newest active versions only, so one request
 * (polled every 2 s by the console) asks at most 2 windows × this × 2 cohorts Durable Objects.
 * Older active versions still show in closed windows.
 */
export const MAX_LIVE_VERSIONS = 16;

export async function fleetWindows(env: Env, model: string, count: number, now: Date): Promise<FleetView> {
  const m = await findModel(env.DB, model);
  const windowSeconds = windowLength(env); // window_length_invalid (503) for a length that is not one
  const current = windowOf(now, windowSeconds);
  const first = current - count + 1;
  const { results: closed } = await env.DB.prepare(
    `SELECT version, window, SUM(devices) AS devices FROM drift_windows
     WHERE model_id = ? AND cohort IN ('health', 'health-control') AND window BETWEEN ? AND ? GROUP BY version, window`,
  )
    .bind(m.id, first, current)
    .all<{ version: number; window: number; devices: number }>();
  const counts = new Map<string, number>(closed.map((r) => [`${r.version}/${r.window}`, r.devices]));
  const live = new Set<number>();
  // SPEC 10.6: the current window and the one before take uploads until closed; a version's
  // window with no recorded row is still in its aggregates.
  const { results: active } = await env.DB.prepare(
    "SELECT version FROM versions WHERE model_id = ? AND status = 'active' ORDER BY version DESC LIMIT ?",
  )
    .bind(m.id, MAX_LIVE_VERSIONS)
    .all<{ version: number }>();
  const open = [current - 1, current].filter((w) => w >= first);
  await Promise.all(
    open.flatMap((window) =>
      active
        .filter(({ version }) => !counts.has(`${version}/${window}`))
        .map(async ({ version }) => {
          const statuses = await Promise.all(
            HEALTH_COHORTS.map((cohort) => aggregateStub(env, model, version, window, cohort).status()),
          );
          const devices = statuses.reduce((n, s) => n + s.devices, 0);
          if (devices > 0) {
            counts.set(`${version}/${window}`, devices);
            live.add(window);
          }
        }),
    ),
  );
  const versions = [...new Set([...counts].filter(([, n]) => n > 0).map(([key]) => Number(key.split('/')[0])))].sort(
    (a, b) => a - b,
  );
  const windows = Array.from({ length: count }, (_, i) => first + i).map((window) => {
    const perVersion = versions.map((version) => ({ version, devices: counts.get(`${version}/${window}`) ?? 0 }));
    return {
      window,
      live: live.has(window),
      versions: perVersion,
      total: perVersion.reduce((n, v) => n + v.devices, 0),
    };
  });
  return { model, windowSeconds, current, versions, windows };
}
