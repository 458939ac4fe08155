/**
 * @module drift/scheduled
 * The window-close Cron Trigger: closes every window of the configured length (WINDOW_SECONDS,
 * a UTC day by default) that ended at least a grace period ago (protocol closeGraceSeconds:
 * 15 minutes for days, half a window for short ones) and is not recorded, for every served
 * version (drift sketches where it has a monitoring baseline, health records for all). With day
 * windows and the daily 00:15 cron that is yesterday's window. Failures are logged per version
 * and do not stop the others.
 *
 * Cron runs are not retried, so each run also closes any of the version's windows of the last
 * CATCH_UP_DAYS that has no record — a run that crashed part-way through a close (whose release
 * waits, stored, in its aggregate) or a run the trigger did not fire — oldest first, so the CUSUM
 * carries over in order; at most MAX_CLOSES_PER_RUN per version per run, so a long outage with
 * short windows is caught up over several runs instead of one that outlives its time limit.
 */
import { windowSeconds } from '@modelfleet/server-shared';
import { closeGraceSeconds, windowOf, windowsIn } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { closeWindow } from './close.ts';

export const CATCH_UP_DAYS = 7;
/** Closes per version per run (day windows need at most CATCH_UP_DAYS). */
export const MAX_CLOSES_PER_RUN = 120;

/** The newest window of `seconds` that ended at least the grace period before `now`. */
export const lastEndedWindow = (now: Date, seconds: number): number =>
  windowOf(new Date(now.getTime() - closeGraceSeconds(seconds) * 1000), seconds) - 1;

export async function closeEndedWindows(env: Env, now: Date): Promise<{ closed: number; failed: number }> {
  const seconds = windowSeconds(env); // an invalid WINDOW_SECONDS closes nothing: window_length_invalid
  const last = lastEndedWindow(now, seconds);
  const first = last - windowsIn(CATCH_UP_DAYS, seconds) + 1;
  const { results } = await env.DB.prepare(
    `SELECT m.name AS model, v.version, v.published_at AS publishedAt,
            (SELECT json_group_array(w.window) FROM drift_windows w WHERE w.model_id = v.model_id AND w.version = v.version AND w.cohort = 'all' AND w.window >= ? AND w.window <= ?) AS recorded
       FROM versions v JOIN models m ON m.id = v.model_id WHERE v.status = 'active'`,
  )
    .bind(first, last)
    .all<{ model: string; version: number; publishedAt: string; recorded: string }>();
  let closed = 0;
  let failed = 0;
  for (const { model, version, publishedAt, recorded } of results) {
    const done = new Set(JSON.parse(recorded) as number[]);
    let closes = 0;
    // A version has no windows before the one it was published in.
    for (
      let window = Math.max(first, windowOf(new Date(publishedAt), seconds));
      window <= last && closes < MAX_CLOSES_PER_RUN;
      window++
    ) {
      if (done.has(window)) continue;
      try {
        closes++;
        await closeWindow(env, model, version, window, 'cron');
        closed++;
      } catch (e) {
        failed++;
        console.error(`drift close ${model} v${version} window ${window}:`, e);
        break; // later windows wait, so that they close after this one
      }
    }
  }
  return { closed, failed };
}
