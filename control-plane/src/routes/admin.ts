/**
 * @module routes/admin
 * Tokens, device apps, keys and the audit log. Minting credentials and installing roots need
 * `admin`; reading keys and the audit log needs `viewer` (webhook URLs in it are shown to admins
 * only; others see scheme and host, as a URL may hold a credential).
 */
import { createRoute } from '@hono/zod-openapi';
import { APP_KEY_PREFIX } from '@modelfleet/edge-runtime';
import { AuditRecord, CreateAppRequest, CreateAppResponse, CreateTokenRequest, CreateTokenResponse, Envelope, OperatorRole } from '@modelfleet/protocol';
import { z } from 'zod';
import { TOKEN_PREFIX, hashToken, randomSecret, requireRole } from '../auth/operators.ts';
import type { Env } from '../env.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { auditStatement, listAudit } from '../registry/audit.ts';
import { currentRoot, putRoot } from '../trust/roots.ts';
import { redactAuditUrls } from '../webhooks/target.ts';
import { bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const adminRoutes = createApp();

adminRoutes.openapi(
  createRoute({ method: 'post', path: '/tokens', security: bearer, middleware: [requireRole('admin'), ...jsonBody] as const,
    request: jsonRequest(CreateTokenRequest), responses: { 201: json(CreateTokenResponse, 'The token; shown once, only its hash is kept'), ...errorResponses } }),
  async (c) => {
    const body = c.req.valid('json');
    const op = c.get('operator');
    const id = crypto.randomUUID().slice(0, 8);
    const token = randomSecret(TOKEN_PREFIX);
    const at = new Date();
    const expiresAt = body.expiresInSeconds ? new Date(at.getTime() + body.expiresInSeconds * 1000).toISOString() : null;
    await c.env.DB.batch([
      c.env.DB.prepare('INSERT INTO tokens (id, hash, role, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
        .bind(id, await hashToken(token), body.role, body.label ?? '', at.toISOString(), expiresAt),
      auditStatement(c.env.DB, { actor: op.actor, action: 'token.create', subject: `token/${id}`, after: { role: body.role, label: body.label ?? '', expiresAt } }),
    ]);
    return c.json({ id, token, role: body.role, expiresAt }, 201);
  },
);

const TokenInfo = z.object({ id: z.string(), role: OperatorRole, label: z.string(), createdAt: z.string(), expiresAt: z.string().nullable(), revokedAt: z.string().nullable() });

adminRoutes.openapi(
  createRoute({ method: 'get', path: '/tokens', security: bearer, middleware: [requireRole('admin')] as const,
    responses: { 200: json(z.object({ tokens: z.array(TokenInfo) }), 'Tokens (never their secrets)'), ...errorResponses } }),
  async (c) => {
    const { results } = await c.env.DB.prepare('SELECT id, role, label, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt FROM tokens ORDER BY created_at').all<z.infer<typeof TokenInfo>>();
    return c.json({ tokens: results }, 200);
  },
);

adminRoutes.openapi(
  createRoute({ method: 'post', path: '/apps', security: bearer, middleware: [requireRole('admin'), ...jsonBody] as const,
    request: jsonRequest(CreateAppRequest), responses: { 201: json(CreateAppResponse, 'The app and its public device key'), ...errorResponses } }),
  async (c) => {
    const body = c.req.valid('json');
    const id = crypto.randomUUID().slice(0, 8);
    const appKey = randomSecret(APP_KEY_PREFIX);
    await c.env.DB.batch([
      c.env.DB.prepare('INSERT INTO apps (id, app_key, name, models, created_at) VALUES (?, ?, ?, ?, ?)')
        .bind(id, appKey, body.name, JSON.stringify(body.models), new Date().toISOString()),
      auditStatement(c.env.DB, { actor: c.get('operator').actor, action: 'app.create', subject: `app/${id}`, after: { name: body.name, models: body.models } }),
    ]);
    return c.json({ id, appKey, name: body.name, models: body.models }, 201);
  },
);

const KeysInfo = z.object({
  root: z.object({ version: z.number(), expiresAt: z.string(), roles: z.record(z.string(), z.object({ keyids: z.array(z.string()), threshold: z.number() })), keys: z.record(z.string(), z.object({ alg: z.string() })) }).nullable(),
  online: z.object({ release: z.string().nullable(), ticket: z.string().nullable() }),
});

function onlineKeyId(secret: string | undefined): string | null {
  try {
    return secret ? (JSON.parse(secret) as { keyid?: string }).keyid ?? null : null;
  } catch {
    return null;
  }
}

export async function keysInfo(env: Env): Promise<z.infer<typeof KeysInfo>> {
  const stored = await currentRoot(env.DB);
  return {
    root: stored
      ? { version: stored.root.version, expiresAt: stored.root.expiresAt, roles: stored.root.roles, keys: Object.fromEntries(Object.entries(stored.root.keys).map(([id, k]) => [id, { alg: k.alg }])) }
      : null,
    online: { release: onlineKeyId(env.RELEASE_KEY), ticket: onlineKeyId(env.TICKET_KEY) },
  };
}

adminRoutes.openapi(
  createRoute({ method: 'get', path: '/keys', security: bearer, middleware: [requireRole('viewer')] as const,
    responses: { 200: json(KeysInfo, 'The current root and the online key ids'), ...errorResponses } }),
  async (c) => c.json(await keysInfo(c.env), 200),
);

adminRoutes.openapi(
  createRoute({ method: 'put', path: '/keys/root', security: bearer, middleware: [requireRole('admin'), ...jsonBody] as const,
    request: jsonRequest(Envelope), responses: { 200: json(z.object({ version: z.number().int(), expiresAt: z.string() }), 'Root accepted'), ...errorResponses } }),
  async (c) => {
    const root = await putRoot(c.env.DB, c.req.valid('json'), c.get('operator'));
    return c.json({ version: root.version, expiresAt: root.expiresAt }, 200);
  },
);

adminRoutes.openapi(
  createRoute({ method: 'get', path: '/audit', security: bearer, middleware: [requireRole('viewer')] as const,
    request: { query: z.object({
      subject: z.string().max(256).optional().meta({ description: 'exact subject or its children (model/fraud matches model/fraud/v2)' }),
      action: z.string().max(64).optional().meta({ description: 'exact action or its family (rollout matches rollout.promote)' }),
      actor: z.string().max(128).optional().meta({ description: 'substring of the actor' }),
      limit: z.coerce.number().int().min(1).max(1000).default(100), before: z.coerce.number().int().optional(),
    }) },
    responses: { 200: json(z.object({ records: z.array(AuditRecord) }), 'Newest first'), ...errorResponses } }),
  async (c) => {
    const q = c.req.valid('query');
    const filters = { ...(q.subject ? { subject: q.subject } : {}), ...(q.action ? { action: q.action } : {}), ...(q.actor ? { actor: q.actor } : {}), ...(q.before ? { before: q.before } : {}) };
    const records = await listAudit(c.env.DB, { limit: q.limit, ...filters });
    return c.json({ records: c.get('operator').role === 'admin' ? records : records.map(redactAuditUrls) }, 200);
  },
);
