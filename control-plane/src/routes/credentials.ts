/**
 * @module routes/credentials
 * Operator tokens and device apps: minting, listing and ending them. All of it needs `admin`.
 * Tokens end by revocation (immediate, console sessions included); app keys by rotation with a
 * grace period, or by revocation (the edge may serve a revoked key for up to EDGE_CACHE_TTL_MS).
 */
import { createRoute } from '@hono/zod-openapi';
import {
  AppKeysResponse,
  CreateAppRequest,
  CreateAppResponse,
  CreateTokenRequest,
  CreateTokenResponse,
  RevokeAppKeyRequest,
  RevokeTokenRequest,
  RevokeAppKeyResponse,
  RevokeTokenResponse,
  RotateAppKeyRequest,
  RotateAppKeyResponse,
  TokenList,
} from '@modelfleet/protocol';
import { z } from 'zod';
import { TOKEN_PREFIX, hashToken, randomSecret, requireRole } from '../auth/operators.ts';
import { listTokens, revokeToken } from '../auth/revoke.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { listAppKeys, mintAppKey, revokeAppKey, rotateAppKey } from '../registry/app-keys.ts';
import { auditStatement } from '../registry/audit.ts';
import { bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const credentialRoutes = createApp();

const Id = z.string().min(1).max(64);
const conflict = {
  409: {
    description: 'Refused: it would leave no working admin token (`last_admin`)',
    content: errorResponses[400].content,
  },
} as const;

credentialRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/tokens',
    security: bearer,
    middleware: [requireRole('admin'), ...jsonBody] as const,
    request: jsonRequest(CreateTokenRequest),
    responses: { 201: json(CreateTokenResponse, 'The token; shown once, only its hash is kept'), ...errorResponses },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const op = c.get('operator');
    const id = crypto.randomUUID().slice(0, 8);
    const token = randomSecret(TOKEN_PREFIX);
    const at = new Date();
    const expiresAt = body.expiresInSeconds
      ? new Date(at.getTime() + body.expiresInSeconds * 1000).toISOString()
      : null;
    await c.env.DB.batch([
      c.env.DB.prepare(
        'INSERT INTO tokens (id, hash, role, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).bind(id, await hashToken(token), body.role, body.label ?? '', at.toISOString(), expiresAt),
      auditStatement(c.env.DB, {
        actor: op.actor,
        action: 'token.create',
        subject: `token/${id}`,
        after: { role: body.role, label: body.label ?? '', expiresAt },
      }),
    ]);
    return c.json({ id, token, role: body.role, expiresAt }, 201);
  },
);

credentialRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/tokens',
    security: bearer,
    middleware: [requireRole('admin')] as const,
    responses: { 200: json(TokenList, 'Tokens (never their secrets)'), ...errorResponses },
  }),
  async (c) => c.json({ tokens: await listTokens(c.env.DB) }, 200),
);

credentialRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/tokens/{id}/revoke',
    security: bearer,
    middleware: [requireRole('admin'), ...jsonBody] as const,
    description:
      'Ends the token now, for the API and the console (its sessions end too). Revoking a revoked token changes nothing (`alreadyRevoked`). The last working admin token is refused (`last_admin`) unless a bootstrap ADMIN_TOKEN is set.',
    request: { params: z.object({ id: Id }), ...jsonRequest(RevokeTokenRequest) },
    responses: { 200: json(RevokeTokenResponse, 'The token as it is now'), ...errorResponses, ...conflict },
  }),
  async (c) => {
    const { reason } = c.req.valid('json');
    return c.json(await revokeToken(c.env, c.req.valid('param').id, c.get('operator'), reason), 200);
  },
);

credentialRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/apps',
    security: bearer,
    middleware: [requireRole('admin'), ...jsonBody] as const,
    request: jsonRequest(CreateAppRequest),
    responses: { 201: json(CreateAppResponse, 'The app and its public device key'), ...errorResponses },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const id = crypto.randomUUID().slice(0, 8);
    const at = new Date().toISOString();
    const { appKey, insert } = await mintAppKey(c.env.DB, id, at);
    await c.env.DB.batch([
      c.env.DB.prepare('INSERT INTO apps (id, name, models, created_at) VALUES (?, ?, ?, ?)').bind(
        id,
        body.name,
        JSON.stringify(body.models),
        at,
      ),
      insert,
      auditStatement(
        c.env.DB,
        {
          actor: c.get('operator').actor,
          action: 'app.create',
          subject: `app/${id}`,
          after: { name: body.name, models: body.models },
        },
        at,
      ),
    ]);
    return c.json({ id, appKey, name: body.name, models: body.models }, 201);
  },
);

const AppParam = z.object({ id: Id });

credentialRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/apps/{id}/keys',
    security: bearer,
    middleware: [requireRole('admin')] as const,
    request: { params: AppParam },
    responses: { 200: json(AppKeysResponse, "The app's keys (hints, never the keys)"), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    return c.json({ appId: id, keys: await listAppKeys(c.env.DB, id) }, 200);
  },
);

credentialRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/apps/{id}/keys/rotate',
    security: bearer,
    middleware: [requireRole('admin'), ...jsonBody] as const,
    description:
      "A new device key for the app. Its other keys keep working for `graceSeconds` (default 7 days; 0 ends them now), then devices that send them get `app_key_invalid`. Edge isolates cache a key's lookup for EDGE_CACHE_TTL_MS, so an ended key may still open a warm isolate for that long.",
    request: { params: AppParam, ...jsonRequest(RotateAppKeyRequest) },
    responses: {
      201: json(RotateAppKeyResponse, 'The new key (shown in full only here) and all keys of the app'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    return c.json(await rotateAppKey(c.env, c.req.valid('param').id, body, c.get('operator')), 201);
  },
);

credentialRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/apps/{id}/keys/{keyId}/revoke',
    security: bearer,
    middleware: [requireRole('admin'), ...jsonBody] as const,
    description:
      'Ends one device key now (within EDGE_CACHE_TTL_MS on warm edge isolates). Revoking a revoked key changes nothing (`alreadyRevoked`).',
    request: { params: AppParam.extend({ keyId: Id }), ...jsonRequest(RevokeAppKeyRequest) },
    responses: { 200: json(RevokeAppKeyResponse, 'The key as it is now'), ...errorResponses },
  }),
  async (c) => {
    const { id, keyId } = c.req.valid('param');
    return c.json(await revokeAppKey(c.env, id, keyId, c.get('operator'), c.req.valid('json').reason), 200);
  },
);
