/**
 * @module worker
 * The Worker entry: the control plane with the edge runtime mounted (see app.ts).
 */
import { buildApp } from './app.ts';
import type { Env } from './env.ts';

export { SketchAggregator } from '@modelfleet/edge-runtime';

const app = buildApp();

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
