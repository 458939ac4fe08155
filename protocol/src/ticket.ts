/**
 * @module ticket
 * A ticket answers "which model should this device run now" (docs/architecture.md §5). It is short-lived
 * (expiry defeats freeze attacks) and carries a per-model sequence that only grows (defeats
 * replaying an older assignment).
 */
import * as z from 'zod/mini';
import { utf8 } from './encoding.ts';
import { type Envelope, PAYLOAD_TYPES, signEnvelope } from './envelope.ts';
import type { Signer } from './keys.ts';
import { Digest, ModelName } from './manifest.ts';
import { isWindowLength } from './window.ts';

export const Ticket = z.looseObject({
  type: z.literal('modelfleet/ticket'),
  specVersion: z.literal(1),
  model: ModelName,
  version: z.int().check(z.minimum(1)),
  manifestDigest: Digest,
  /** Null while the device simply follows the champion alias. */
  rolloutId: z.nullable(z.string()),
  /** Which assignment produced this ticket: an alias name, or a rollout stage. */
  stage: z.string().check(z.minLength(1)),
  sequence: z.int().check(z.minimum(0)),
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  /** SPEC 10.6: the telemetry window length the device numbers its windows by; absent = 86400 (a UTC day). */
  windowSeconds: z.optional(
    z.int().check(z.refine(isWindowLength, 'windowSeconds must be at least 10 and divide 86400')),
  ),
});
export type Ticket = z.infer<typeof Ticket>;

export function serializeTicket(ticket: Ticket): Uint8Array {
  return utf8(JSON.stringify(ticket));
}

export function signTicket(ticket: Ticket, signer: Signer): Promise<Envelope> {
  return signEnvelope(PAYLOAD_TYPES.ticket, serializeTicket(ticket), [signer]);
}
