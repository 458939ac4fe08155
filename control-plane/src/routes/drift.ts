/**
 * @module routes/drift
 * Operator views of drift data. Raw aggregates never leave their Durable Object before the
 * window closes and noise is added; until then only the device count and a digest are shown.
 */
import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '@modelfleet/edge-runtime';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import { createApp } from '../http/openapi-app.ts';
import { findModel } from '../registry/models.ts';
import { ModelParam, bearer, errorResponses, json } from './shared.ts';

export const driftRoutes = createApp();

driftRoutes.openapi(
  createRoute({
    method: 'get', path: '/models/{model}/versions/{version}/sketches/{window}', security: bearer, middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam.extend({ version: z.coerce.number().int().min(1), window: z.coerce.number().int().min(0) }) },
    responses: { 200: json(z.object({ window: z.number().int(), devices: z.number().int(), digest: z.string().nullable() }), 'Contributions so far'), ...errorResponses },
  }),
  async (c) => {
    const { model, version, window } = c.req.valid('param');
    await findModel(c.env.DB, model);
    if (!c.env.AGGREGATES) throw new ApiError('internal', 'the AGGREGATES Durable Object is not bound');
    const stub = c.env.AGGREGATES.get(c.env.AGGREGATES.idFromName(`${model}/${version}/${window}/all`));
    return c.json({ window, ...(await stub.status()) }, 200);
  },
);
