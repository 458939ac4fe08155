/**
 * @module crons
 * wrangler.toml [triggers] crons, in its order (crons.test.ts reads the toml and checks). The
 * webhook sweep re-queues lost deliveries; every other cron closes the drift windows that ended —
 * the daily one, or whatever a deployment with shorter WINDOW_SECONDS schedules instead, or
 * `wrangler dev --test-scheduled`'s /__scheduled.
 */

/** Daily at 00:15 UTC: close and release yesterday's windows (with the default day windows). */
export const DAILY_CRON = '15 0 * * *';
/** Every 5 minutes: re-queue webhook deliveries whose queue message was lost. */
export const SWEEP_CRON = '*/5 * * * *';
