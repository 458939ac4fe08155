/**
 * @module webhooks/deliver
 * One delivery attempt, the queue consumer around it, and the sweep for lost messages.
 * At-least-once: a receiver may see an event twice (a retry racing a sweep) and deduplicates
 * on `webhook-id`. Redirects are not followed (a webhook URL is where the admin said it is), and the
 * target is checked again before each attempt (webhooks/target.ts): a hook registered before that
 * check existed, or whose host left WEBHOOK_ALLOW_HOSTS, fails without a request.
 */
import { signWebhook } from '@modelfleet/protocol';
import { vars } from '@modelfleet/server-shared';
import type { Env } from '../env.ts';
import { backoffSeconds } from './backoff.ts';
import { type DeliveryMessage, enqueue } from './events.ts';
import { allowedHosts, checkWebhookTarget } from './target.ts';

export const MAX_ATTEMPTS = 8;
const TIMEOUT_MS = 10_000;
export type AttemptOutcome = { kind: 'done' } | { kind: 'retry'; delaySeconds: number };

interface Row {
  status: string;
  attempts: number;
  payload: string;
  event_id: string;
  url: string;
  secret: string;
  deleted_at: string | null;
}

export async function attemptDelivery(env: Env, id: number, now = new Date()): Promise<AttemptOutcome> {
  const row = await env.DB.prepare(
    'SELECT d.status, d.attempts, d.payload, d.event_id, w.url, w.secret, w.deleted_at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?',
  )
    .bind(id)
    .first<Row>();
  if (!row || row.status !== 'pending') return { kind: 'done' };
  if (row.deleted_at) {
    await record(env, id, 'failed', row.attempts, null, 'webhook deleted', now);
    return { kind: 'done' };
  }
  const attempts = row.attempts + 1;
  try {
    checkWebhookTarget(row.url, allowedHosts(env.WEBHOOK_ALLOW_HOSTS));
  } catch (e) {
    // Not retried: only a change of configuration (then a manual redeliver) could make it deliverable.
    await record(env, id, 'failed', attempts, null, `target refused: ${(e as Error).message}`, now);
    return { kind: 'done' };
  }
  let status: number | null = null;
  let error: string | null = null;
  try {
    const headers = await signWebhook(row.secret, row.event_id, Math.floor(now.getTime() / 1000), row.payload);
    const res = await fetch(row.url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'user-agent': 'modelfleet-webhooks/1',
      },
      body: row.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
    if (res.ok) {
      await record(env, id, 'delivered', attempts, status, null, now);
      return { kind: 'done' };
    }
    error = `HTTP ${res.status}`;
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  if (attempts >= MAX_ATTEMPTS) {
    await record(env, id, 'failed', attempts, status, error, now);
    return { kind: 'done' };
  }
  const delaySeconds = backoffSeconds(attempts, vars(env).WEBHOOK_RETRY_BASE_SECONDS);
  await record(env, id, 'pending', attempts, status, error, now, new Date(now.getTime() + delaySeconds * 1000));
  return { kind: 'retry', delaySeconds };
}

async function record(
  env: Env,
  id: number,
  status: string,
  attempts: number,
  lastStatus: number | null,
  lastError: string | null,
  now: Date,
  next = now,
) {
  await env.DB.prepare(
    'UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?',
  )
    .bind(status, attempts, lastStatus, lastError?.slice(0, 500) ?? null, next.toISOString(), now.toISOString(), id)
    .run();
}

/** The WEBHOOKS queue consumer: one attempt per message; failures come back after the backoff. */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (msg) => {
      const id = Number(msg.body?.delivery);
      if (!Number.isInteger(id)) return msg.ack(); // not ours; retrying cannot help
      try {
        const outcome = await attemptDelivery(env, id);
        if (outcome.kind === 'retry') msg.retry({ delaySeconds: outcome.delaySeconds });
        else msg.ack();
      } catch (e) {
        console.error(`webhook delivery ${id}:`, e);
        msg.retry({ delaySeconds: vars(env).WEBHOOK_RETRY_BASE_SECONDS });
      }
    }),
  );
}

/** Re-queues pending deliveries whose next attempt is overdue by a grace period (lost messages). */
export async function sweepDeliveries(env: Env, now = new Date(), graceMs = 5 * 60_000): Promise<number> {
  const { results } = await env.DB.prepare(
    "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at < ? ORDER BY id LIMIT 1000",
  )
    .bind(new Date(now.getTime() - graceMs).toISOString())
    .all<{ id: number }>();
  if (results.length > 0)
    await enqueue(
      env,
      results.map((r) => r.id),
    );
  return results.length;
}
