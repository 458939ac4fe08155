/**
 * @module sync
 * The client flow of protocol/SPEC.md for one model: root chain, ticket, manifest, caps,
 * chunks, atomic activation, garbage collection. Expected outcomes are values; anything that
 * must not be ignored (bad signature, corrupt chunk, replay) throws an SdkError, and the active
 * version is untouched because activation is the last step (SPEC 7).
 */
import {
  type Envelope, type Manifest, type Root, type SizeCaps, type Ticket, checkManifestMatchesTicket, checkSizeCaps, fromBase64, parseEnvelope, payloadJson,
  updateRoot, verifyManifest, verifyPinnedRoot, verifyTicket,
} from '@modelfleet/protocol';
import { downloadChunks } from './download.ts';
import { SdkError, toSdkError } from './errors.ts';
import { type EdgeClient, edgeGet, edgeJson } from './http.ts';
import type { ModelState, ModelStore } from './store.ts';

export interface SyncContext {
  edge: EdgeClient;
  store: ModelStore;
  trustRoot: Envelope;
  deviceId: string;
  caps: SizeCaps;
  parallel: number;
  now: () => Date;
  /** navigator.storage.estimate, when the platform has it (SPEC 4.2). */
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  /** Ticket query suffix describing the device for rollout targeting (profile.ts); detected once, lazily. */
  profileQuery?: Promise<string>;
}

export type SyncResult =
  | { kind: 'up-to-date'; version: number }
  | { kind: 'activated'; version: number; digest: string; downloadedBytes: number; downloadedChunks: number; resumedBytes: number; fetched: Map<string, Uint8Array> };

export interface SyncProgress {
  model: string;
  phase: 'ticket' | 'manifest' | 'download' | 'activate';
  loadedBytes: number;
  totalBytes: number;
}

/** SPEC 1.1–1.2: the pinned root, then every newer root the edge lists, verified in order. */
export async function currentRoot(ctx: SyncContext): Promise<Root> {
  const pinned = await verifyPinnedRoot(ctx.trustRoot);
  const stored = (await ctx.store.roots()).filter((e) => (payloadJson(fromBase64(e.payload), 'root') as { version: number }).version > pinned.version);
  const known = stored.length > 0 ? await updateRoot(pinned, stored, new Date(0)) : pinned; // expiry is checked below, on the newest
  const { roots } = await edgeJson<{ roots: Envelope[] }>(ctx.edge, `/roots?since=${known.version}`);
  const root = await updateRoot(known, roots.map((r) => parseEnvelope(JSON.stringify(r), 'root')), ctx.now());
  for (const [i, envelope] of roots.entries()) await ctx.store.putRoot(known.version + i + 1, envelope);
  return root;
}

async function fetchTicket(ctx: SyncContext, model: string, rootPromise: Promise<Root>, state: ModelState): Promise<{ ticket: Ticket; envelope: Envelope; etag: string | null }> {
  const path = `/tickets/${encodeURIComponent(model)}?device=${encodeURIComponent(ctx.deviceId)}${(await ctx.profileQuery?.catch(() => '')) ?? ''}`;
  const prev = state.ticket;
  // SPEC 1.5: poll with If-None-Match while the stored ticket has more than 10 % of its life left.
  const fresh = prev?.etag && Date.parse(prev.expiresAt) - ctx.now().getTime() > 0.1 * (Date.parse(prev.expiresAt) - Date.parse(prev.issuedAt));
  const res = await edgeGet(ctx.edge, path, fresh ? { 'if-none-match': prev!.etag! } : {});
  const envelope = res.status === 304 && prev ? prev.envelope : parseEnvelope(await res.text(), 'ticket');
  // SPEC 1.3–1.4: signatures, then expiry (freeze) and sequence (replay); a 304 re-checks the stored one.
  const ticket = await verifyTicket(envelope, await rootPromise, { now: ctx.now(), highestSequence: state.highestSequence });
  return { ticket, envelope, etag: res.headers.get('etag') ?? prev?.etag ?? null };
}

async function fetchManifest(ctx: SyncContext, ticket: Ticket, root: Root): Promise<{ manifest: Manifest; payload: Uint8Array }> {
  const envelope = parseEnvelope(await (await edgeGet(ctx.edge, `/manifests/${ticket.manifestDigest}`)).text(), 'manifest');
  const verified = await verifyManifest(envelope, ticket.manifestDigest, root); // SPEC 2.2–2.4
  checkManifestMatchesTicket(verified.manifest, ticket); // SPEC 3
  checkSizeCaps(verified.manifest, ctx.caps); // SPEC 4.1
  return verified;
}

async function checkHeadroom(ctx: SyncContext, bytes: number): Promise<void> {
  if (!ctx.estimate || bytes === 0) return;
  const { usage = 0, quota } = await ctx.estimate();
  // SPEC 4.2: leave 10 % of the quota free; a browser near its quota evicts whole origins.
  if (quota !== undefined && usage + bytes > quota * 0.9) {
    throw new SdkError('storage_quota', `the model needs ${bytes} more bytes but only ${Math.max(0, Math.floor(quota * 0.9 - usage))} are available; free storage and retry`);
  }
}

export async function syncModel(ctx: SyncContext, model: string, onProgress?: (p: SyncProgress) => void): Promise<SyncResult> {
  try {
    const state = await ctx.store.state(model);
    onProgress?.({ model, phase: 'ticket', loadedBytes: 0, totalBytes: 0 });
    // The ticket request travels while the root chain is checked; nothing is trusted before both.
    const rootPromise = currentRoot(ctx);
    const [root, { ticket, envelope, etag }] = await Promise.all([rootPromise, fetchTicket(ctx, model, rootPromise, state)]);
    const recordTicket = async () => {
      const s = await ctx.store.state(model);
      await ctx.store.putState({
        ...s, highestSequence: Math.max(s.highestSequence, ticket.sequence),
        ticket: { etag, envelope, expiresAt: ticket.expiresAt, issuedAt: ticket.issuedAt, fetchedAt: ctx.now().toISOString(), digest: ticket.manifestDigest },
      });
    };
    if (state.active?.digest === ticket.manifestDigest) {
      await recordTicket();
      return { kind: 'up-to-date', version: state.active.version };
    }

    const ref = { digest: ticket.manifestDigest, version: ticket.version };
    const cached = await ctx.store.getManifest(ticket.manifestDigest);
    let chunks: Manifest['chunks'];
    let totalBytes: number;
    if (cached && (await ctx.store.missing(cached.chunks)).length === 0) {
      chunks = []; // a rollback to a cached version downloads nothing (SPEC 5.3)
      totalBytes = 0;
    } else {
      onProgress?.({ model, phase: 'manifest', loadedBytes: 0, totalBytes: 0 });
      const { manifest, payload } = await fetchManifest(ctx, ticket, root);
      await ctx.store.putManifest({ digest: ticket.manifestDigest, model, version: manifest.version, payload, chunks: manifest.chunks.map((c) => c.digest) });
      await ctx.store.putState({ ...(await ctx.store.state(model)), pending: ref });
      const missing = new Set(await ctx.store.missing(manifest.chunks.map((c) => c.digest)));
      chunks = manifest.chunks.filter((c) => missing.delete(c.digest)); // each distinct digest once
      totalBytes = chunks.reduce((n, c) => n + c.size, 0);
      await checkHeadroom(ctx, totalBytes);
    }

    let loaded = 0;
    const stats = await downloadChunks(ctx.edge, ctx.store, chunks, ctx.parallel, (n) => {
      loaded += n;
      onProgress?.({ model, phase: 'download', loadedBytes: loaded, totalBytes });
    });
    onProgress?.({ model, phase: 'activate', loadedBytes: totalBytes, totalBytes });
    await ctx.store.activate(model, ref, ticket.sequence); // SPEC 6.1
    await recordTicket();
    await ctx.store.collectGarbage(); // SPEC 6.2
    return { kind: 'activated', version: ticket.version, digest: ticket.manifestDigest, downloadedBytes: stats.bytes, downloadedChunks: stats.chunks, resumedBytes: stats.resumedBytes, fetched: stats.fetched };
  } catch (e) {
    throw toSdkError(e);
  }
}
