/**
 * @module bundle
 * SPEC 1.6: the ticket bundle. A device's first request brings back its ticket, the roots it has
 * not seen, the manifest the ticket names (unless the device says it holds it) and, for a small
 * model, the chunks too — so a cold load waits one round trip before its first chunk request
 * instead of three (roots ‖ ticket, then manifest). Everything is served as stored and verified
 * against its digest first (content.ts); the device verifies each part as if it had fetched it alone. The ETag also covers the newest root, so a
 * conditional poll stays a 304 until the ticket or the root changes.
 */
import {
  HAVE_PREFIX,
  INLINE_CHUNK_BYTES,
  type InlineChunk,
  type TicketBundle,
  encodeInlineChunk,
  fromBase64,
  fromUtf8,
  type Envelope,
} from '@modelfleet/protocol';
import { manifestBytes, verifiedChunkBytes } from './content.ts';
import { ApiError, TtlCache } from '@modelfleet/server-shared';
import type { EdgeEnv } from './env.ts';
import type { SignedTicket } from './tickets.ts';

const roots = new TtlCache<{ version: number; envelope: Envelope }[]>(1);
/** Per manifest digest: its envelope, and its chunks when the model is small enough to inline. */
const parts = new Map<string, { envelope: Envelope; chunks: InlineChunk[] | null }>();
const MAX_PARTS = 256;

function allRoots(env: EdgeEnv, ttlMs: number) {
  return roots.get('all', ttlMs, Date.now(), async () => {
    const { results } = await env.DB.prepare('SELECT version, envelope FROM roots ORDER BY version').all<{
      version: number;
      envelope: string;
    }>();
    return results.map((r) => ({ version: r.version, envelope: JSON.parse(r.envelope) as Envelope }));
  });
}

async function manifestParts(env: EdgeEnv, digest: string) {
  const hit = parts.get(digest);
  if (hit) return hit;
  const bytes = await manifestBytes(env, digest);
  if (!bytes) throw new ApiError('not_found', `no manifest ${digest}`);
  const envelope = JSON.parse(fromUtf8(new Uint8Array(bytes))) as Envelope;
  // Our own signed manifest, read only to decide what to inline; the device verifies it.
  const manifest = JSON.parse(fromUtf8(fromBase64(envelope.payload))) as {
    totalBytes: number;
    chunks: { digest: string }[];
  };
  let chunks: InlineChunk[] | null = null;
  let complete = true;
  if (manifest.totalBytes <= INLINE_CHUNK_BYTES) {
    chunks = [];
    for (const d of new Set(manifest.chunks.map((c) => c.digest))) {
      let bytes: Uint8Array | null;
      try {
        bytes = await verifiedChunkBytes(env, d);
      } catch (e) {
        // A corrupt chunk is left out rather than failing the ticket: the device fetches it alone
        // and is told `content_corrupt` there (counted once, in content.ts).
        if (!(e instanceof ApiError && e.code === 'content_corrupt')) throw e;
        chunks = null;
        complete = false;
        break;
      }
      if (!bytes) throw new ApiError('not_found', `no chunk ${d}`);
      chunks.push(encodeInlineChunk(d, bytes));
    }
  }
  const entry = { envelope, chunks };
  if (!complete) return entry; // not remembered: once repaired, the next bundle inlines again
  if (parts.size >= MAX_PARTS) parts.delete(parts.keys().next().value!); // oldest first
  parts.set(digest, entry);
  return entry;
}

export interface BundleRequest {
  root: number;
  have: string[];
  ttlMs: number;
}

/** The bundle's ETag without building it, so a conditional poll costs no R2 read. */
export async function bundleEtag(env: EdgeEnv, ticket: SignedTicket, ttlMs: number): Promise<string> {
  const all = await allRoots(env, ttlMs);
  return `${ticket.etag.slice(0, -1)}-r${all.at(-1)?.version ?? 0}"`;
}

export async function ticketBundle(env: EdgeEnv, ticket: SignedTicket, req: BundleRequest): Promise<TicketBundle> {
  const newer = (await allRoots(env, req.ttlMs)).filter((r) => r.version > req.root).map((r) => r.envelope);
  const bundle: TicketBundle = { type: 'modelfleet/ticket-bundle', ticket: ticket.envelope, roots: newer };
  if (req.have.includes(ticket.manifestDigest.slice(0, HAVE_PREFIX))) return bundle;
  const { envelope, chunks } = await manifestParts(env, ticket.manifestDigest);
  bundle.manifest = envelope;
  if (chunks) bundle.chunks = chunks;
  return bundle;
}
