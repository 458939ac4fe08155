/**
 * @module worker
 * The Worker entry: the control plane with the edge runtime mounted (see app.ts).
 */
import { buildApp } from './app.ts';
import { closeEndedWindows } from './drift/scheduled.ts';
import { SWEEP_CRON } from './crons.ts';
import type { Env } from './env.ts';
import type { DeliveryMessage } from './webhooks/delivery-message.ts';
import { consumeDeliveries, sweepDeliveries } from './webhooks/deliver.ts';

export { SketchAggregator } from '@modelfleet/edge-runtime';
export { RolloutCoordinator } from './rollouts/coordinator.ts';

const app = buildApp();

export default {
  fetch: app.fetch,
  scheduled: (event, env, ctx) => {
    const now = new Date(event.scheduledTime);
    // Every few minutes: re-queue webhook deliveries whose queue message was lost. Otherwise:
    // close and release the drift windows that have ended (daily, with day windows).
    ctx.waitUntil(
      event.cron === SWEEP_CRON
        ? sweepDeliveries(env, now)
        : closeEndedWindows(env, now).catch((e) => {
            console.error('drift close:', e instanceof Error ? e.message : e); // window_length_invalid: nothing closed
          }),
    );
  },
  queue: (batch, env) => consumeDeliveries(batch, env),
} satisfies ExportedHandler<Env, DeliveryMessage>;
