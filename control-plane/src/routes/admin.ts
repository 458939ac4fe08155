/**
 * @module routes/admin
 * Signing keys and the audit log. Installing roots needs `admin`; reading keys and the audit log
 * needs `viewer` (webhook URLs in it are shown to admins only; others see scheme and host, as a URL
 * may hold a credential). Tokens and device apps are in routes/credentials.ts.
 */
import { createRoute } from '@hono/zod-openapi';
import { AuditPage, Envelope, KeysInfo, RootInstalled } from '@modelfleet/protocol';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import type { Env } from '../env.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { listAudit } from '../registry/audit.ts';
import { currentRoot, putRoot } from '../trust/roots.ts';
import { redactAuditUrls } from '../webhooks/target.ts';
import { bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const adminRoutes = createApp();

function onlineKeyId(secret: string | undefined): string | null {
  try {
    return secret ? ((JSON.parse(secret) as { keyid?: string }).keyid ?? null) : null;
  } catch {
    return null;
  }
}

export async function keysInfo(env: Env): Promise<KeysInfo> {
  const stored = await currentRoot(env.DB);
  return {
    root: stored
      ? {
          version: stored.root.version,
          expiresAt: stored.root.expiresAt,
          roles: stored.root.roles,
          keys: Object.fromEntries(Object.entries(stored.root.keys).map(([id, k]) => [id, { alg: k.alg }])),
        }
      : null,
    online: { release: onlineKeyId(env.RELEASE_KEY), ticket: onlineKeyId(env.TICKET_KEY) },
  };
}

adminRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/keys',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    responses: { 200: json(KeysInfo, 'The current root and the online key ids'), ...errorResponses },
  }),
  async (c) => c.json(await keysInfo(c.env), 200),
);

adminRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/keys/root',
    security: bearer,
    middleware: [requireRole('admin'), ...jsonBody] as const,
    request: jsonRequest(Envelope),
    responses: { 200: json(RootInstalled, 'Root accepted'), ...errorResponses },
  }),
  async (c) => {
    const root = await putRoot(c.env.DB, c.req.valid('json'), c.get('operator'));
    return c.json({ version: root.version, expiresAt: root.expiresAt }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/audit',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: {
      query: z.object({
        subject: z
          .string()
          .max(256)
          .optional()
          .meta({ description: 'exact subject or its children (model/fraud matches model/fraud/v2)' }),
        action: z
          .string()
          .max(64)
          .optional()
          .meta({ description: 'exact action or its family (rollout matches rollout.promote)' }),
        actor: z.string().max(128).optional().meta({ description: 'substring of the actor' }),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        before: z.coerce.number().int().optional(),
      }),
    },
    responses: { 200: json(AuditPage, 'Newest first'), ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const filters = {
      ...(q.subject ? { subject: q.subject } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.actor ? { actor: q.actor } : {}),
      ...(q.before ? { before: q.before } : {}),
    };
    const records = await listAudit(c.env.DB, { limit: q.limit, ...filters });
    return c.json({ records: c.get('operator').role === 'admin' ? records : records.map(redactAuditUrls) }, 200);
  },
);
