/**
 * @module drift/scheduled
 * The daily Cron Trigger: closes yesterday's window for every served version (drift sketches
 * where it has a monitoring baseline, health records for all). Failures are logged per version
 * and do not stop the others.
 *
 * Cron runs are not retried, so each run also closes any of the version's last CATCH_UP_DAYS
 * windows that has no record — a run that crashed part-way through a close (whose release waits,
 * stored, in its aggregate) or a day the trigger did not fire — oldest first, so the CUSUM
 * carries over in order.
 */
import { windowOf } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { closeWindow } from './close.ts';

export const CATCH_UP_DAYS = 7;

export async function closeYesterday(env: Env, now: Date): Promise<{ closed: number; failed: number }> {
  const yesterday = windowOf(now) - 1;
  const first = yesterday - CATCH_UP_DAYS + 1;
  const { results } = await env.DB.prepare(
    `SELECT m.name AS model, v.version, v.published_at AS publishedAt,
            (SELECT json_group_array(w.window) FROM drift_windows w WHERE w.model_id = v.model_id AND w.version = v.version AND w.cohort = 'all' AND w.window >= ?) AS recorded
       FROM versions v JOIN models m ON m.id = v.model_id WHERE v.status = 'active'`,
  ).bind(first).all<{ model: string; version: number; publishedAt: string; recorded: string }>();
  let closed = 0;
  let failed = 0;
  for (const { model, version, publishedAt, recorded } of results) {
    const done = new Set(JSON.parse(recorded) as number[]);
    // A version has no windows before the day it was published.
    for (let window = Math.max(first, windowOf(new Date(publishedAt))); window <= yesterday; window++) {
      if (done.has(window)) continue;
      try {
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
