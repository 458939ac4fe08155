/**
 * @module webhooks/store
 * Registering, listing and deleting webhooks, and reading the delivery log.
 */
import { ApiError } from '@modelfleet/server-shared';
import {
  type CreateWebhookRequest,
  type WebhookDelivery,
  type WebhookInfo,
  newWebhookSecret,
} from '@modelfleet/protocol';
import type { Operator } from '../http/context.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel } from '../registry/models.ts';
import { checkWebhookTarget, redactUrl } from './target.ts';

/** Registers a webhook; the target is checked first (webhooks/target.ts), so a refusal writes nothing. */
export async function createWebhook(
  db: D1Database,
  body: CreateWebhookRequest,
  op: Operator,
  allow: Set<string>,
): Promise<WebhookInfo & { secret: string }> {
  const url = checkWebhookTarget(body.url, allow).toString();
  const model = body.model ? await findModel(db, body.model) : null;
  const id = `wh_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const secret = newWebhookSecret();
  const events = [...new Set(body.events)];
  const createdAt = new Date().toISOString();
  const info: WebhookInfo = {
    id,
    url,
    events,
    model: model?.name ?? null,
    description: body.description ?? '',
    createdAt,
  };
  await db.batch([
    db
      .prepare(
        'INSERT INTO webhooks (id, url, secret, events, model_id, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .bind(id, url, secret, JSON.stringify(events), model?.id ?? null, info.description, createdAt),
    auditStatement(db, { actor: op.actor, action: 'webhook.create', subject: `webhook/${id}`, after: info }, createdAt),
  ]);
  return { ...info, secret };
}

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  model: string | null;
  description: string;
  created_at: string;
}

const toInfo = (r: WebhookRow): WebhookInfo => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events),
  model: r.model,
  description: r.description,
  createdAt: r.created_at,
});

/** A webhook as a reader below admin sees it: the URL cut to scheme and host (it may hold a credential). */
export const redactWebhook = <T extends WebhookInfo>(w: T): T => ({ ...w, url: redactUrl(w.url) });

export async function listWebhooks(db: D1Database): Promise<WebhookInfo[]> {
  const { results } = await db
    .prepare(
      'SELECT w.id, w.url, w.events, m.name AS model, w.description, w.created_at FROM webhooks w LEFT JOIN models m ON m.id = w.model_id WHERE w.deleted_at IS NULL ORDER BY w.created_at',
    )
    .all<WebhookRow>();
  return results.map(toInfo);
}

export async function findWebhook(db: D1Database, id: string): Promise<WebhookInfo & { modelId: number | null }> {
  const row = await db
    .prepare(
      'SELECT w.id, w.url, w.events, m.name AS model, w.model_id, w.description, w.created_at FROM webhooks w LEFT JOIN models m ON m.id = w.model_id WHERE w.id = ? AND w.deleted_at IS NULL',
    )
    .bind(id)
    .first<WebhookRow & { model_id: number | null }>();
  if (!row) throw new ApiError('not_found', `no webhook ${id}`);
  return { ...toInfo(row), modelId: row.model_id };
}

export async function deleteWebhook(db: D1Database, id: string, op: Operator): Promise<void> {
  const before = await findWebhook(db, id);
  const at = new Date().toISOString();
  await db.batch([
    db.prepare('UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').bind(at, id),
    // Pending deliveries of a deleted webhook end now rather than at their next attempt.
    db
      .prepare(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = 'webhook deleted', updated_at = ? WHERE webhook_id = ? AND status = 'pending'",
      )
      .bind(at, id),
    auditStatement(
      db,
      {
        actor: op.actor,
        action: 'webhook.delete',
        subject: `webhook/${id}`,
        before: { url: before.url, events: before.events },
      },
      at,
    ),
  ]);
}

export interface DeliveryFilter {
  webhook?: string;
  status?: WebhookDelivery['status'];
  type?: string;
  limit: number;
  before?: number;
}

export async function listDeliveries(db: D1Database, f: DeliveryFilter): Promise<WebhookDelivery[]> {
  const { results } = await db
    .prepare(
      `SELECT id, webhook_id AS webhookId, event_id AS eventId, type, subject, status, attempts, last_status AS lastStatus, last_error AS lastError,
            created_at AS createdAt, updated_at AS updatedAt
     FROM webhook_deliveries WHERE (?1 IS NULL OR webhook_id = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR id < ?4)
     ORDER BY id DESC LIMIT ?5`,
    )
    .bind(f.webhook ?? null, f.status ?? null, f.type ?? null, f.before ?? null, f.limit)
    .all<WebhookDelivery>();
  return results;
}

/** Puts a failed delivery back in the queue's hands with a fresh attempt budget. */
export async function redeliver(db: D1Database, id: number, op: Operator): Promise<void> {
  const row = await db
    .prepare('SELECT status FROM webhook_deliveries WHERE id = ?')
    .bind(id)
    .first<{ status: string }>();
  if (!row) throw new ApiError('not_found', `no delivery ${id}`);
  if (row.status !== 'failed')
    throw new ApiError('conflict', `delivery ${id} is ${row.status}; only failed deliveries are sent again`);
  const at = new Date().toISOString();
  await db.batch([
    db
      .prepare(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = 'failed'",
      )
      .bind(at, at, id),
    auditStatement(db, { actor: op.actor, action: 'webhook.redeliver', subject: `delivery/${id}` }, at),
  ]);
}
