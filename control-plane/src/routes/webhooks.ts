/**
 * @module routes/webhooks
 * Webhook registration (admin), the webhook list and the delivery log (viewer) and manual actions:
 * a ping to test a receiver, and sending a failed delivery again (operator). A webhook URL may carry
 * a credential in its path or query, so below admin the list shows its scheme and host only.
 */
import { createRoute } from '@hono/zod-openapi';
import {
  CreateWebhookRequest,
  CreateWebhookResponse,
  DeliveryList,
  DeliveryStatus,
  EventType,
  RedeliveryResponse,
  WebhookList,
  WebhookPingResponse,
} from '@modelfleet/protocol';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { enqueue, enqueueEvent, eventStatements } from '../webhooks/events.ts';
import {
  createWebhook,
  deleteWebhook,
  findWebhook,
  listDeliveries,
  listWebhooks,
  redactWebhook,
  redeliver,
} from '../webhooks/store.ts';
import { allowedHosts } from '../webhooks/target.ts';
import { bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const webhookRoutes = createApp();

const IdParam = z.object({ id: z.string().regex(/^wh_[0-9a-f]{16}$/) });

webhookRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/webhooks',
    security: bearer,
    middleware: [requireRole('admin'), ...jsonBody] as const,
    request: jsonRequest(CreateWebhookRequest),
    responses: {
      201: json(CreateWebhookResponse, 'The webhook and its signing secret, shown once'),
      ...errorResponses,
    },
  }),
  async (c) =>
    c.json(
      await createWebhook(c.env.DB, c.req.valid('json'), c.get('operator'), allowedHosts(c.env.WEBHOOK_ALLOW_HOSTS)),
      201,
    ),
);

webhookRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/webhooks',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    responses: {
      200: json(WebhookList, 'Live webhooks, never their secrets; below admin, URLs as scheme and host only'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const hooks = await listWebhooks(c.env.DB);
    return c.json({ webhooks: c.get('operator').role === 'admin' ? hooks : hooks.map(redactWebhook) }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/webhooks/{id}',
    security: bearer,
    middleware: [requireRole('admin')] as const,
    request: { params: IdParam },
    responses: { 204: { description: 'Deleted; its pending deliveries end as failed' }, ...errorResponses },
  }),
  async (c) => {
    await deleteWebhook(c.env.DB, c.req.valid('param').id, c.get('operator'));
    return c.body(null, 204);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/webhooks/{id}/ping',
    security: bearer,
    middleware: [requireRole('operator')] as const,
    request: { params: IdParam },
    responses: { 202: json(WebhookPingResponse, 'A ping event queued for this webhook only'), ...errorResponses },
  }),
  async (c) => {
    const hook = await findWebhook(c.env.DB, c.req.valid('param').id);
    const eventId = `ping/${crypto.randomUUID()}`;
    await eventStatements(
      c.env.DB,
      { id: eventId, type: 'dev.modelfleet.webhook.ping', model: null, data: { webhook: hook.id } },
      hook.id,
    ).run();
    await enqueueEvent(c.env, eventId);
    return c.json({ eventId }, 202);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/deliveries',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: {
      query: z.object({
        webhook: z.string().max(40).optional(),
        status: DeliveryStatus.optional(),
        type: EventType.optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        before: z.coerce.number().int().optional(),
      }),
    },
    responses: { 200: json(DeliveryList, 'The delivery log, newest first'), ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid('query');
    return c.json(
      {
        deliveries: await listDeliveries(c.env.DB, {
          limit: q.limit,
          ...(q.webhook ? { webhook: q.webhook } : {}),
          ...(q.status ? { status: q.status } : {}),
          ...(q.type ? { type: q.type } : {}),
          ...(q.before ? { before: q.before } : {}),
        }),
      },
      200,
    );
  },
);

webhookRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/deliveries/{id}/retry',
    security: bearer,
    middleware: [requireRole('operator')] as const,
    request: { params: z.object({ id: z.coerce.number().int().min(1) }) },
    responses: { 202: json(RedeliveryResponse, 'Queued again'), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await redeliver(c.env.DB, id, c.get('operator'));
    await enqueue(c.env, [id]);
    return c.json({ id }, 202);
  },
);
