/**
 * @module worker
 * The Worker entry: the control plane with the edge runtime mounted (see app.ts).
 */
import { buildApp } from './app.ts';
import { closeYesterday } from './drift/scheduled.ts';
import type { Env } from './env.ts';

export { SketchAggregator } from '@modelfleet/edge-runtime';

const app = buildApp();

export default {
  fetch: app.fetch,
  // Daily (wrangler.toml [triggers]): close and release yesterday's drift windows.
  scheduled: (event, env, ctx) => ctx.waitUntil(closeYesterday(env, new Date(event.scheduledTime))),
} satisfies ExportedHandler<Env>;
