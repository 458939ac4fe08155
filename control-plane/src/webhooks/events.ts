/**
 * @module webhooks/events
 * Turning a state change into webhook deliveries. `eventStatements` returns the D1 statement
 * that writes one pending delivery per matching webhook; callers put it in the same batch as
 * the change, so an event exists exactly when its change does (a transactional outbox). After
 * the batch, `enqueueEvent` hands the new rows to the queue.
 */
import type { CloudEvent, EventData, EventType } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import type { DeliveryMessage } from './delivery-message.ts';

interface EventOf<T extends EventType> {
  /** Stable across retries and re-closes: receivers deduplicate on it. */
  id: string;
  type: T;
  /** The model the event is about (webhooks filtered to a model see only its events). */
  model: { id: number; name: string } | null;
  subject?: string;
  /** As protocol's EVENT_DATA schema of `type` says (webhook-events.ts). */
  data: EventData<T>;
  time?: string;
}

/** One event of any type: its data checked against its type's schema at compile time. */
export type EventInput<T extends EventType = EventType> = { [K in T]: EventOf<K> }[T];

export function cloudEvent(e: EventInput): CloudEvent {
  // EventInput ties each type to its data; TypeScript cannot follow that pairing through the copy.
  return <CloudEvent>{
    specversion: '1.0',
    id: e.id,
    source: e.model ? `/v1/models/${e.model.name}` : '/v1',
    type: e.type,
    ...(e.subject ? { subject: e.subject } : {}),
    time: e.time ?? new Date().toISOString(),
    datacontenttype: 'application/json',
    data: e.data,
  };
}

/**
 * One pending delivery per live webhook subscribed to the type (and to the model, if scoped);
 * with `onlyWebhook`, to that webhook alone whatever it subscribed to (a ping tests the receiver);
 * with `guard`, only if that SQL condition holds in the batch (a change that may lose a race).
 */
export function eventStatements(
  db: D1Database,
  e: EventInput,
  onlyWebhook?: string,
  guard?: { sql: string; params: unknown[] },
): D1PreparedStatement {
  let n = 0; // guard placeholders are numbered after the seven above
  const event = cloudEvent(e);
  const at = event.time;
  return db
    .prepare(
      `INSERT OR IGNORE INTO webhook_deliveries (webhook_id, event_id, type, subject, payload, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT w.id, ?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?5 FROM webhooks w
     WHERE w.deleted_at IS NULL AND (?7 IS NULL OR w.id = ?7)
       AND (?7 IS NOT NULL OR ((w.model_id IS NULL OR w.model_id = ?6) AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = ?2)))
       ${guard ? `AND ${guard.sql.replace(/\?/g, () => `?${8 + n++}`)}` : ''}`,
    )
    .bind(
      event.id,
      event.type,
      event.subject ?? null,
      JSON.stringify(event),
      at,
      e.model?.id ?? null,
      onlyWebhook ?? null,
      ...(guard?.params ?? []),
    );
}

export type { DeliveryMessage };

/**
 * Queues the pending deliveries of an event. A failure here loses nothing: the rows stay
 * pending and the sweep (every few minutes) queues them again.
 */
export async function enqueueEvent(env: Env, eventId: string): Promise<number> {
  const { results } = await env.DB.prepare(
    "SELECT id FROM webhook_deliveries WHERE event_id = ? AND status = 'pending'",
  )
    .bind(eventId)
    .all<{ id: number }>();
  if (results.length === 0) return 0;
  try {
    await enqueue(
      env,
      results.map((r) => r.id),
    );
  } catch (e) {
    console.error(`webhook enqueue for ${eventId} failed; the sweep will retry:`, e);
  }
  return results.length;
}

export async function enqueue(env: Env, ids: number[]): Promise<void> {
  if (!env.WEBHOOKS) throw new Error('the WEBHOOKS queue is not bound');
  for (let i = 0; i < ids.length; i += 100) {
    await env.WEBHOOKS.sendBatch(
      ids
        .slice(i, i + 100)
        .map((delivery) => ({ body: { delivery } satisfies DeliveryMessage, contentType: 'json' as const })),
    );
  }
}
