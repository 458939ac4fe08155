/**
 * @module worker
 * The Worker entry: the control plane with the edge runtime mounted (see app.ts).
 */
import { buildApp } from './app.ts';
import { closeYesterday } from './drift/scheduled.ts';
import type { Env } from './env.ts';
import type { DeliveryMessage } from './webhooks/events.ts';
import { consumeDeliveries, sweepDeliveries } from './webhooks/deliver.ts';

/** wrangler.toml [triggers]: the daily drift close; the other cron is the webhook sweep. */
const DAILY_CRON = '15 0 * * *';

export { SketchAggregator } from '@modelfleet/edge-runtime';
export { RolloutCoordinator } from './rollouts/coordinator.ts';

const app = buildApp();

export default {
  fetch: app.fetch,
  scheduled: (event, env, ctx) => {
    const now = new Date(event.scheduledTime);
    // Daily: close and release yesterday's drift windows. Every few minutes: re-queue webhook
    // deliveries whose queue message was lost.
    ctx.waitUntil(event.cron === DAILY_CRON ? closeYesterday(env, now) : sweepDeliveries(env, now));
  },
  queue: (batch, env) => consumeDeliveries(batch, env),
} satisfies ExportedHandler<Env, DeliveryMessage>;
