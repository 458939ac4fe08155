/**
 * @module ticket-bundle
 * What `GET /v1/edge/tickets/{model}?device=…&bundle=1&root=N` answers (SPEC 1.6): the signed
 * ticket together with what the device needs next, in one round trip — the roots after the one it
 * knows (SPEC 1.1), the manifest envelope the ticket names unless the device says it holds it
 * (SPEC 2.1), and, for a model of at most INLINE_CHUNK_BYTES, its chunks (SPEC 5.2). Being here
 * makes nothing trusted: each part is verified exactly as if it had been fetched on its own.
 */
import * as z from 'zod/mini';
import { fromBase64, toBase64 } from './encoding.ts';
import { Envelope } from './envelope.ts';
import { parseOrThrow, ProtocolError } from './errors.ts';
import { Digest } from './manifest.ts';

/**
 * Models whose weights are at most this size travel inside the bundle: one round trip saved
 * (40 ms on the bench's emulated network) outweighs a third more bytes in base64 (64 KiB → 29 ms
 * more at 20 Mbit/s) only for small models; larger chunks stay cacheable on CDNs by digest.
 */
export const INLINE_CHUNK_BYTES = 64 * 1024;
/** How many manifests a device names in `have` (active and last-known-good, and spares). */
export const MAX_HAVE = 4;
/** `have` names manifests by this many hex characters: a collision only costs a manifest fetch. */
export const HAVE_PREFIX = 16;
/** The `have` query value: comma-separated digest prefixes. */
export const HAVE_PATTERN = new RegExp(`^[0-9a-f]{${HAVE_PREFIX}}(,[0-9a-f]{${HAVE_PREFIX}}){0,${MAX_HAVE - 1}}$`);

export const InlineChunk = z.object({
  digest: Digest,
  data: z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')),
});
export type InlineChunk = z.infer<typeof InlineChunk>;

export const TicketBundle = z.looseObject({
  type: z.literal('modelfleet/ticket-bundle'),
  ticket: Envelope,
  /** Root envelopes with a version above the request's `root`, oldest first. */
  roots: z.array(Envelope),
  /** The manifest envelope named by the ticket; absent when `have` named it. */
  manifest: z.optional(Envelope),
  /** The manifest's chunks, when its weights are at most INLINE_CHUNK_BYTES. */
  chunks: z.optional(z.array(InlineChunk)),
});
export type TicketBundle = z.infer<typeof TicketBundle>;

/** The query a device sends: the newest root it trusts and the manifests it already stores. */
export function bundleQuery(rootVersion: number, have: string[]): string {
  const names = [...new Set(have.map((d) => d.slice(0, HAVE_PREFIX)))].slice(0, MAX_HAVE);
  return `&bundle=1&root=${rootVersion}${names.length > 0 ? `&have=${names.join(',')}` : ''}`;
}

/** Parses a ticket response: a bundle, or (from a server that predates bundles) a bare ticket envelope. */
export function parseTicketResponse(text: string): { bundle: TicketBundle | null; ticket: Envelope } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('malformed_document', 'ticket response is not JSON');
  }
  if (typeof value === 'object' && value !== null && 'payloadType' in value)
    return { bundle: null, ticket: parseOrThrow(Envelope, value, 'ticket') };
  const bundle = parseOrThrow(TicketBundle, value, 'ticket bundle');
  return { bundle, ticket: bundle.ticket };
}

export const encodeInlineChunk = (digest: string, bytes: Uint8Array): InlineChunk => ({
  digest,
  data: toBase64(bytes),
});
export const decodeInlineChunk = (chunk: InlineChunk): Uint8Array => fromBase64(chunk.data);
