/**
 * @module drift/scheduled
 * The daily Cron Trigger: closes yesterday's window for every served version (drift sketches
 * where it has a monitoring baseline, health records for all). Failures are logged per version
 * and do not stop the others.
 */
import { windowOf } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { closeWindow } from './close.ts';

export async function closeYesterday(env: Env, now: Date): Promise<{ closed: number; failed: number }> {
  const window = windowOf(now) - 1;
  const { results } = await env.DB.prepare(
    `SELECT m.name AS model, v.version FROM versions v JOIN models m ON m.id = v.model_id WHERE v.status = 'active'`,
  ).all<{ model: string; version: number }>();
  let closed = 0;
  let failed = 0;
  for (const { model, version } of results) {
    try {
      await closeWindow(env, model, version, window, 'cron');
      closed++;
    } catch (e) {
      failed++;
      console.error(`drift close ${model} v${version} window ${window}:`, e);
    }
  }
  return { closed, failed };
}
