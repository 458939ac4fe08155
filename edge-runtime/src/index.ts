/**
 * @module @modelfleet/edge-runtime
 * The device-facing hot path, mounted by the control plane at /v1/edge. Read-only on the
 * registry by construction: nothing here writes D1 or R2.
 */
import { ATTESTATION_HEADER, PROOF_HEADER, SKETCH_CHANNELS } from '@modelfleet/protocol';
import { ApiError, errorResponse, vars } from '@modelfleet/server-shared';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { APP_KEY_HEADER } from './apps.ts';
import { serveChunk, serveManifest } from './content.ts';
import type { EdgeEnv } from './env.ts';
import { ticketRoute } from './ticket-route.ts';
import { uploadRoute } from './upload-route.ts';

export type { EdgeEnv } from './env.ts';
export { APP_KEY_HEADER } from './apps.ts';
export { ticketSigner } from './tickets.ts';
export { IMMUTABLE } from './content.ts';
export { SketchAggregator } from './aggregator.ts';

export function edgeRoutes<E extends EdgeEnv>(): Hono<{ Bindings: E }> {
  const edge = new Hono<{ Bindings: E }>();
  edge.onError((error) => errorResponse(error));
  // Browsers load models cross-origin: any page may read the public device routes, and the SDK
  // needs its headers (app key, Range, If-None-Match) allowed and ETag/Content-Range readable.
  edge.use(
    '*',
    cors({
      origin: '*',
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: [APP_KEY_HEADER, PROOF_HEADER, ATTESTATION_HEADER, 'content-type', 'range', 'if-none-match'], // sketch uploads are application/octet-stream
      exposeHeaders: ['etag', 'content-range', 'content-length', 'accept-ranges', PROOF_HEADER],
      maxAge: 86400,
    }),
  );

  edge.get('/tickets/:model', (c) => ticketRoute(c));
  // Sketch uploads (upload-route.ts), the only device writes; they never touch the registry.
  for (const channel of SKETCH_CHANNELS) edge.post(`/${channel}/:model/:version`, (c) => uploadRoute(channel)(c));

  edge.get('/manifests/:digest', (c) => serveManifest(c.env, c.req.raw, c.req.param('digest')));
  edge.get('/chunks/:digest', (c) =>
    serveChunk(c.env, c.req.raw, c.req.param('digest'), vars(c.env).EDGE_CACHE_TTL_MS),
  );

  // The chain of roots after the one a device pins (SPEC 1.1); public like the keys it lists.
  edge.get('/roots', async (c) => {
    const since = Number(c.req.query('since') ?? '0');
    if (!Number.isInteger(since) || since < 0)
      throw new ApiError('bad_request', 'since must be a non-negative integer root version');
    const { results } = await c.env.DB.prepare('SELECT envelope FROM roots WHERE version > ? ORDER BY version')
      .bind(since)
      .all<{ envelope: string }>();
    return c.json({ roots: results.map((r) => JSON.parse(r.envelope)) }, 200, { 'cache-control': 'no-cache' });
  });

  return edge;
}
