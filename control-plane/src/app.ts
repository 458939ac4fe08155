/**
 * @module app
 * Assembles the Worker's routes: the operator API under /v1, the edge runtime under /v1/edge,
 * the OpenAPI document at /v1/openapi.json, and one error renderer for all of them.
 */
import { edgeRoutes } from '@modelfleet/edge-runtime';
import { ApiError, errorResponse } from '@modelfleet/server-shared';
import { createRoute } from '@hono/zod-openapi';
import { HealthStatus } from '@modelfleet/protocol';
import { HTTPException } from 'hono/http-exception';
import { bindApi } from './console/api.ts';
import { consoleRoutes } from './console/routes.tsx';
import type { Env } from './env.ts';
import { classicDefinitions } from './http/classic-schemas.ts';
import { createApp } from './http/openapi-app.ts';
import { adminRoutes } from './routes/admin.ts';
import { credentialRoutes } from './routes/credentials.ts';
import { driftRoutes } from './routes/drift.ts';
import { evaluationRoutes } from './routes/evaluations.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { documentEdge } from './routes/edge-docs.ts';
import { modelRoutes } from './routes/models.ts';
import { policyRoutes } from './routes/policy.ts';
import { publishRoutes } from './routes/publish.ts';
import { rolloutRoutes } from './routes/rollouts.ts';
import { json } from './routes/shared.ts';
import { storageRoutes } from './routes/storage.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export function buildApp() {
  const app = createApp();
  app.onError((error) => {
    if (error instanceof HTTPException) {
      // Hono's own refusals (e.g. malformed JSON) keep their status but speak our error format.
      return errorResponse(new ApiError('bad_request', error.message || 'bad request', undefined, error.status));
    }
    return errorResponse(error);
  });
  app.notFound(() => errorResponse(new ApiError('not_found', 'no such route; see /v1/openapi.json')));

  app.openapi(
    createRoute({ method: 'get', path: '/v1/health', responses: { 200: json(HealthStatus, 'The Worker is up') } }),
    (c) => c.json({ ok: true as const }, 200),
  );
  app.route('/v1/edge', edgeRoutes<Env>());
  app.route('/v1', modelRoutes);
  app.route('/v1', publishRoutes);
  app.route('/v1', adminRoutes);
  app.route('/v1', credentialRoutes);
  app.route('/v1', driftRoutes);
  app.route('/v1', fleetRoutes);
  app.route('/v1', webhookRoutes);
  app.route('/v1', rolloutRoutes);
  app.route('/v1', policyRoutes);
  app.route('/v1', storageRoutes);
  app.route('/v1', evaluationRoutes);
  app.route('/console', consoleRoutes);
  bindApi((request, env, ctx) => app.fetch(request, env, ctx));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'Operator token (mft_…)',
  });
  documentEdge(app);
  let classic = false; // protocol's zod/mini schemas, rebuilt as classic zod for the generator (once, when first asked)
  app.use('/v1/openapi.json', async (_, next) => {
    if (!classic) classicDefinitions(app.openAPIRegistry as unknown as Parameters<typeof classicDefinitions>[0]);
    classic = true;
    await next();
  });
  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'modelfleet control plane',
      version: '0.1.0',
      description: 'Registry, signing and edge delivery of on-device models.',
    },
  });
  return app;
}
