/**
 * @module routes/models
 * Models, versions and aliases. Reads need `viewer`, creating a model `publisher`, moving an
 * alias `operator` (it changes what devices run).
 */
import { createRoute } from '@hono/zod-openapi';
import {
  AliasName,
  CreateModelRequest,
  ModelList,
  ModelSummary,
  SetAliasRequest,
  VersionList,
  VersionSummary,
} from '@modelfleet/protocol';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { createModel, getModel, getVersion, listModels, listVersions, setAlias } from '../registry/models.ts';
import { ModelParam, VersionParam, bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const modelRoutes = createApp();

modelRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    responses: { 200: json(ModelList, 'All models'), ...errorResponses },
  }),
  async (c) => c.json({ models: await listModels(c.env.DB) }, 200),
);

modelRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/models',
    security: bearer,
    middleware: [requireRole('publisher'), ...jsonBody] as const,
    request: jsonRequest(CreateModelRequest),
    responses: { 201: json(ModelSummary, 'Created'), ...errorResponses },
  }),
  async (c) => {
    const body = c.req.valid('json');
    return c.json(await createModel(c.env.DB, body.name, body.description ?? '', c.get('operator')), 201);
  },
);

modelRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam },
    responses: { 200: json(ModelSummary, 'The model'), ...errorResponses },
  }),
  async (c) => c.json(await getModel(c.env.DB, c.req.valid('param').model), 200),
);

modelRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/versions',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam },
    responses: { 200: json(VersionList, 'Versions, newest first'), ...errorResponses },
  }),
  async (c) => c.json({ versions: await listVersions(c.env.DB, c.req.valid('param').model) }, 200),
);

modelRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/versions/{version}',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: VersionParam },
    responses: { 200: json(VersionSummary, 'One version'), ...errorResponses },
  }),
  async (c) => {
    const { model, version } = c.req.valid('param');
    return c.json(await getVersion(c.env.DB, model, version), 200);
  },
);

modelRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/models/{model}/aliases/{alias}',
    security: bearer,
    middleware: [requireRole('operator'), ...jsonBody] as const,
    request: { params: z.object({ model: ModelParam.shape.model, alias: AliasName }), ...jsonRequest(SetAliasRequest) },
    responses: { 200: json(ModelSummary, 'The model with its aliases'), ...errorResponses },
  }),
  async (c) => {
    const { model, alias } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(
      await setAlias(c.env.DB, model, alias, body.version, c.get('operator'), {
        reason: body.reason,
        ifVersion: body.ifVersion,
      }),
      200,
    );
  },
);
