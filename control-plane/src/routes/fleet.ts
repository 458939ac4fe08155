/**
 * @module routes/fleet
 * The fleet by version over time (drift/fleet.ts): how far an update has spread, and how many
 * devices still run the version before it. Counts only; `viewer` may read them.
 */
import { createRoute } from '@hono/zod-openapi';
import { FleetQuery, FleetView } from '@modelfleet/protocol';
import { requireRole } from '../auth/operators.ts';
import { fleetWindows } from '../drift/fleet.ts';
import { createApp } from '../http/openapi-app.ts';
import { ModelParam, bearer, errorResponses, json } from './shared.ts';

export const fleetRoutes = createApp();

fleetRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/fleet',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam, query: FleetQuery },
    responses: {
      200: json(
        FleetView,
        'Devices per version in each of the latest windows (closed ones as recorded, the open ones live)',
      ),
      ...errorResponses,
    },
  }),
  async (c) =>
    c.json(await fleetWindows(c.env, c.req.valid('param').model, c.req.valid('query').windows, new Date()), 200),
);
