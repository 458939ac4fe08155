/**
 * @module webhook
 * Events the control plane sends to operator webhooks: CloudEvents 1.0 in structured JSON mode,
 * signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature:
 * v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`), so receivers can use any Standard
 * Webhooks library or `verifyWebhook` below. The event id is stable across retries: receivers
 * deduplicate on it.
 */
import { z } from 'zod';
import { fromBase64, timingSafeEqual, toBase64, utf8 } from './encoding.ts';
import { ProtocolError } from './errors.ts';
import { EVENT_DATA, EVENT_TYPES, EventType } from './webhook-events.ts';

const Envelope = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(256),
  source: z.string().min(1),
  subject: z.string().optional(),
  time: z.iso.datetime(),
  datacontenttype: z.literal('application/json'),
});
const typed = <T extends EventType>(type: T) => Envelope.extend({ type: z.literal(type), data: EVENT_DATA[type] });

/** A webhook event: the envelope, and `data` as its `type`'s schema (webhook-events.ts) says. */
export const CloudEvent = z.discriminatedUnion('type', [
  typed('dev.modelfleet.drift.alarm'),
  typed('dev.modelfleet.drift.retrain_requested'),
  typed('dev.modelfleet.rollout.transition'),
  typed('dev.modelfleet.webhook.ping'),
]);
export type CloudEvent = z.infer<typeof CloudEvent>;
/** The event of one type, with its data typed. */
export type CloudEventOf<T extends EventType> = Extract<CloudEvent, { type: T }>;

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Receivers should refuse deliveries whose timestamp is further than this from their clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export const WebhookHeaders = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

async function hmacKey(secret: string): Promise<CryptoKey> {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX))
    throw new ProtocolError('bad_request', `a webhook secret starts with ${WEBHOOK_SECRET_PREFIX}`);
  const raw = fromBase64(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  return crypto.subtle.importKey('raw', raw as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

async function mac(secret: string, id: string, timestamp: number, body: string): Promise<Uint8Array> {
  const sig = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    utf8(`${id}.${timestamp}.${body}`) as BufferSource,
  );
  return new Uint8Array(sig);
}

/** A fresh 32-byte secret, shown to the admin once. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** The three signature headers for one delivery attempt. */
export async function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string>> {
  return {
    [WebhookHeaders.id]: id,
    [WebhookHeaders.timestamp]: String(timestamp),
    [WebhookHeaders.signature]: `v1,${toBase64(await mac(secret, id, timestamp, body))}`,
  };
}

/**
 * Receiver side: checks the timestamp window and any of the space-separated `v1,` signatures
 * (several appear while a secret is being rotated); returns the parsed event.
 */
export async function verifyWebhook(
  secret: string,
  headers: { get(name: string): string | null },
  body: string,
  now = Date.now(),
): Promise<CloudEvent> {
  const id = headers.get(WebhookHeaders.id);
  const ts = Number(headers.get(WebhookHeaders.timestamp));
  const given = headers.get(WebhookHeaders.signature);
  if (!id || !Number.isInteger(ts) || !given)
    throw new ProtocolError('bad_signature', 'webhook-id, webhook-timestamp and webhook-signature are required');
  if (Math.abs(now / 1000 - ts) > WEBHOOK_TOLERANCE_SECONDS)
    throw new ProtocolError('webhook_stale', `webhook timestamp ${ts} is outside ±${WEBHOOK_TOLERANCE_SECONDS} s`);
  const expected = await mac(secret, id, ts, body);
  const ok = given.split(' ').some((s) => {
    const [version, value] = s.split(',', 2);
    if (version !== 'v1' || !value) return false;
    try {
      return timingSafeEqual(fromBase64(value), expected);
    } catch {
      return false;
    }
  });
  if (!ok) throw new ProtocolError('bad_signature', 'no webhook-signature matches the body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ProtocolError('malformed_document', 'webhook body is not JSON');
  }
  const event = CloudEvent.safeParse(parsed);
  if (!event.success)
    throw new ProtocolError(
      'malformed_document',
      `webhook body is not a modelfleet CloudEvent: ${z.prettifyError(event.error)}`,
    );
  if (event.data.id !== id) throw new ProtocolError('bad_signature', 'webhook-id does not match the event id');
  return event.data;
}

/** Admin API bodies. */
export const CreateWebhookRequest = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  events: z.array(EventType).min(1).max(EVENT_TYPES.length),
  /** Only events about this model; omitted = all models. */
  model: z.string().max(64).optional(),
  description: z.string().max(200).optional(),
});
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequest>;

export const WebhookInfo = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(EventType),
  model: z.string().nullable(),
  description: z.string(),
  createdAt: z.string(),
});
export type WebhookInfo = z.infer<typeof WebhookInfo>;

export const DeliveryStatus = z.enum(['pending', 'delivered', 'failed']);
export const WebhookDelivery = z.object({
  id: z.number().int(),
  webhookId: z.string(),
  eventId: z.string(),
  type: EventType,
  subject: z.string().nullable(),
  status: DeliveryStatus,
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** Answers of the webhook routes (/v1/webhooks, /v1/deliveries). */
export const CreateWebhookResponse = WebhookInfo.extend({ secret: z.string() });
export const WebhookList = z.object({ webhooks: z.array(WebhookInfo) });
export const WebhookPingResponse = z.object({ eventId: z.string() });
export const DeliveryList = z.object({ deliveries: z.array(WebhookDelivery) });
export type DeliveryList = z.infer<typeof DeliveryList>;
export const RedeliveryResponse = z.object({ id: z.number().int() });
