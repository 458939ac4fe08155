/**
 * @module worker
 * The Worker entry: the control plane's Hono app with the edge runtime mounted under /v1/edge.
 */
import { Hono } from 'hono';
import type { Env } from './env.ts';

const app = new Hono<{ Bindings: Env }>();
app.get('/v1/health', (c) => c.json({ ok: true }));

export default app satisfies ExportedHandler<Env>;
