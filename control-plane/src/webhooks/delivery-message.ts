/**
 * @module delivery-message
 * The body of a webhook queue message: the delivery row to attempt (webhook_deliveries.id). In a
 * module of its own because env.ts types the WEBHOOKS queue by it, and events.ts takes the Env.
 */
export interface DeliveryMessage {
  delivery: number;
}
