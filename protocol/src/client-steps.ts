/**
 * @module client-steps
 * The device-side checks of SPEC.md §1–§5 as pure functions, shared by the web SDK, the mobile
 * bridge and `modelfleet verify`. Each step throws a ProtocolError whose code names what failed.
 */
import { fromBase64, sha256Hex } from './encoding.ts';
import { type Envelope, PAYLOAD_TYPES, payloadJson, verifyEnvelope } from './envelope.ts';
import { ProtocolError, parseOrThrow } from './errors.ts';
import { type Manifest, manifestDigest, parseManifest } from './manifest.ts';
import type { Root } from './root.ts';
import { Ticket } from './ticket.ts';

export interface TicketCheck {
  now: Date;
  /** Highest ticket sequence this device has accepted for the model (SPEC 1.4). */
  highestSequence?: number;
}

/** SPEC 1.3–1.4: ticket role signatures, expiry, sequence. */
export async function verifyTicket(envelope: Envelope, root: Root, check: TicketCheck): Promise<Ticket> {
  const payload = await verifyEnvelope(envelope, PAYLOAD_TYPES.ticket, root.keys, root.roles.ticket, 'ticket');
  const ticket = parseOrThrow(Ticket, payloadJson(payload, 'ticket'), 'ticket');
  if (Date.parse(ticket.expiresAt) <= check.now.getTime()) {
    throw new ProtocolError(
      'ticket_expired',
      `ticket for ${ticket.model} expired at ${ticket.expiresAt}; fetch a fresh one (is the device clock right?)`,
    );
  }
  if (check.highestSequence !== undefined && ticket.sequence < check.highestSequence) {
    throw new ProtocolError(
      'ticket_replayed',
      `ticket sequence ${ticket.sequence} is below the highest seen (${check.highestSequence}): an old ticket was replayed`,
    );
  }
  return ticket;
}

/** SPEC 2.2–2.4: digest of the payload bytes, then release signatures, then parse. */
export async function verifyManifest(
  envelope: Envelope,
  expectedDigest: string,
  root: Root,
): Promise<{ manifest: Manifest; payload: Uint8Array }> {
  const claimed = fromBase64(envelope.payload);
  const digest = await manifestDigest(claimed);
  if (digest !== expectedDigest) {
    throw new ProtocolError(
      'manifest_digest_mismatch',
      `manifest digest is ${digest}, the ticket names ${expectedDigest}`,
    );
  }
  const payload = await verifyEnvelope(
    envelope,
    PAYLOAD_TYPES.manifest,
    root.keys,
    root.roles.release,
    `manifest ${digest.slice(0, 12)}`,
  );
  return { manifest: parseManifest(payload), payload };
}

/** SPEC 3: the manifest must be the one the ticket promised (no mix-and-match). */
export function checkManifestMatchesTicket(manifest: Manifest, ticket: Ticket): void {
  if (manifest.model !== ticket.model || manifest.version !== ticket.version) {
    throw new ProtocolError(
      'ticket_manifest_mismatch',
      `ticket names ${ticket.model} v${ticket.version} but the manifest is ${manifest.model} v${manifest.version}`,
    );
  }
}

export interface SizeCaps {
  maxTotalBytes: number;
  maxChunkBytes: number;
}

export const DEFAULT_SIZE_CAPS: SizeCaps = { maxTotalBytes: 512 * 2 ** 20, maxChunkBytes: 4 * 2 ** 20 };

/** SPEC 4.1: refuse to start a download that exceeds the device's caps (endless-data attack). */
export function checkSizeCaps(manifest: Manifest, caps: SizeCaps = DEFAULT_SIZE_CAPS): void {
  if (manifest.totalBytes > caps.maxTotalBytes) {
    throw new ProtocolError(
      'manifest_too_large',
      `model is ${manifest.totalBytes} bytes; this device accepts at most ${caps.maxTotalBytes}`,
    );
  }
  const big = manifest.chunks.find((c) => c.size > caps.maxChunkBytes);
  if (big) {
    throw new ProtocolError(
      'manifest_too_large',
      `chunk ${big.digest} is ${big.size} bytes; the cap is ${caps.maxChunkBytes}`,
    );
  }
}

/** SPEC 5.2: a chunk is accepted only when its size and SHA-256 both match the manifest. */
export async function verifyChunk(bytes: Uint8Array, expected: { digest: string; size: number }): Promise<void> {
  if (bytes.byteLength !== expected.size) {
    throw new ProtocolError(
      'chunk_digest_mismatch',
      `chunk ${expected.digest} is ${bytes.byteLength} bytes, expected ${expected.size}`,
    );
  }
  const digest = await sha256Hex(bytes);
  if (digest !== expected.digest) {
    throw new ProtocolError(
      'chunk_digest_mismatch',
      `chunk expected ${expected.digest} but its bytes hash to ${digest}`,
    );
  }
}
