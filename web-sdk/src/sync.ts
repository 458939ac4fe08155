/**
 * @module sync
 * The client flow of protocol/SPEC.md for one model: ticket bundle (roots, ticket, manifest, a
 * small model's chunks), caps, chunks, atomic activation, garbage collection. Expected outcomes
 * are values; anything that must not be ignored (bad signature, corrupt chunk, replay) throws an
 * SdkError, and the active version is untouched because activation is the last step (SPEC 7).
 */
import {
  type Envelope,
  type Manifest,
  type Root,
  type SizeCaps,
  type Ticket,
  type TicketBundle,
  checkManifestMatchesTicket,
  checkSizeCaps,
  decodeInlineChunk,
  parseEnvelope,
  parseManifest,
  verifyChunk,
  verifyManifest,
  verifyTicket,
} from '@modelfleet/protocol';
import { downloadChunks } from './download.ts';
import { SdkError, toSdkError } from './errors.ts';
import { edgeGet } from './http.ts';
import { acceptRoots, knownRoot } from './roots.ts';
import { mark } from './sync-marks.ts';
import { keepProof } from './telemetry/proofs.ts';
import { type TicketAnswer, type TicketContext, fetchTicket, keepTicket, newerRoots } from './ticket.ts';

/** What the ticket exchange needs (TicketContext), and what the download adds. */
export interface SyncContext extends TicketContext {
  caps: SizeCaps;
  parallel: number;
  /** navigator.storage.estimate, when the platform has it (SPEC 4.2). */
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
}

export type SyncResult =
  | { kind: 'up-to-date'; version: number }
  | {
      kind: 'activated';
      version: number;
      digest: string;
      downloadedBytes: number;
      downloadedChunks: number;
      resumedBytes: number;
      /** What was just verified (chunks by digest, and the manifest unless it came from the cache), for loading without reading back. */
      fetched: Map<string, Uint8Array>;
      manifest?: Manifest;
    };

export interface SyncProgress {
  model: string;
  /** `download` is first reported at 0 bytes when the chunk requests go out; `load` is the model entering the runner. */
  phase: 'ticket' | 'manifest' | 'download' | 'activate' | 'load';
  loadedBytes: number;
  totalBytes: number;
}

export interface SyncHooks {
  /** The version to download has a verified manifest (SPEC 2–4): a runner can start its backend now. */
  manifestVerified?: (manifest: Manifest) => void;
}

/** SPEC 2–4: the manifest from the bundle, else fetched by digest; verified, matched and capped either way. */
async function obtainManifest(
  ctx: SyncContext,
  ticket: Ticket,
  root: Root,
  inline: Envelope | undefined,
): Promise<{ manifest: Manifest; payload: Uint8Array }> {
  const envelope =
    inline ?? parseEnvelope(await (await edgeGet(ctx.edge, `/manifests/${ticket.manifestDigest}`)).text(), 'manifest');
  const verified = await verifyManifest(envelope, ticket.manifestDigest, root); // SPEC 2.2–2.4
  checkManifestMatchesTicket(verified.manifest, ticket); // SPEC 3
  checkSizeCaps(verified.manifest, ctx.caps); // SPEC 4.1
  return verified;
}

/** SPEC 4.2: the share of the storage quota a download leaves free; a browser near its quota evicts whole origins. */
const QUOTA_HEADROOM = 0.1;

async function checkHeadroom(ctx: SyncContext, bytes: number): Promise<void> {
  if (!ctx.estimate || bytes === 0) return;
  const { usage = 0, quota } = await ctx.estimate();
  const usable = quota === undefined ? undefined : quota * (1 - QUOTA_HEADROOM);
  if (usable !== undefined && usage + bytes > usable) {
    const available = Math.max(0, Math.floor(usable - usage));
    const why = `the model needs ${bytes} more bytes but only ${available} are available; free storage and retry`;
    throw new SdkError('storage_quota', why);
  }
}

/** SPEC 5.2 for chunks that came inside the bundle: verified before they are stored or used. */
async function keepInline(
  ctx: SyncContext,
  chunks: Manifest['chunks'],
  bundle: TicketBundle | null,
  fetched: Map<string, Uint8Array>,
): Promise<{ rest: Manifest['chunks']; inlineBytes: number }> {
  const inline = new Map((bundle?.chunks ?? []).map((c) => [c.digest, c]));
  const rest: Manifest['chunks'] = [];
  let inlineBytes = 0;
  for (const chunk of chunks) {
    const carried = inline.get(chunk.digest);
    if (!carried) {
      rest.push(chunk);
      continue;
    }
    const bytes = decodeInlineChunk(carried);
    await verifyChunk(bytes, chunk);
    await ctx.store.putChunk(chunk.digest, bytes.buffer as ArrayBuffer);
    fetched.set(chunk.digest, bytes);
    inlineBytes += bytes.length;
  }
  return { rest, inlineBytes };
}

/** What a new version needs downloaded: `chunks` to fetch, after those the bundle carried (`fetched`). */
interface Plan {
  chunks: Manifest['chunks'];
  totalBytes: number;
  inlineBytes: number;
  verified?: Manifest;
}

/**
 * A cached complete version needs nothing (SPEC 5.3: a rollback downloads nothing); otherwise the
 * manifest is obtained and verified, stored with the version marked pending, and the missing
 * chunks that fit the quota are planned, those inside the bundle verified and stored at once.
 */
async function plan(
  ctx: SyncContext,
  model: string,
  ticket: Ticket,
  root: Root,
  answer: TicketAnswer,
  fetched: Map<string, Uint8Array>,
  onProgress: ((p: SyncProgress) => void) | undefined,
  hooks: SyncHooks,
): Promise<Plan> {
  const cached = await ctx.store.getManifest(ticket.manifestDigest);
  if (cached && (await ctx.store.missing(cached.chunks)).length === 0) {
    checkManifestMatchesTicket(parseManifest(cached.payload), ticket); // SPEC 3
    return { chunks: [], totalBytes: 0, inlineBytes: 0 };
  }
  onProgress?.({ model, phase: 'manifest', loadedBytes: 0, totalBytes: 0 });
  const { manifest, payload } = await obtainManifest(ctx, ticket, root, answer.bundle?.manifest);
  mark('manifest-verified');
  hooks.manifestVerified?.(manifest);
  const digests = manifest.chunks.map((c) => c.digest);
  const stored = { digest: ticket.manifestDigest, model, version: manifest.version, payload, chunks: digests };
  await ctx.store.putManifest(stored);
  mark('manifest-stored');
  const pending = { digest: ticket.manifestDigest, version: ticket.version };
  await ctx.store.putState({ ...(await ctx.store.state(model)), pending });
  mark('pending');
  const missing = new Set(await ctx.store.missing(digests));
  const needed = manifest.chunks.filter((c) => missing.delete(c.digest)); // each distinct digest once
  mark('missing');
  await checkHeadroom(
    ctx,
    needed.reduce((n, c) => n + c.size, 0),
  );
  mark('headroom');
  const { rest, inlineBytes } = await keepInline(ctx, needed, answer.bundle, fetched);
  mark('inline');
  return { chunks: rest, totalBytes: rest.reduce((n, c) => n + c.size, 0), inlineBytes, verified: manifest };
}

export async function syncModel(
  ctx: SyncContext,
  model: string,
  onProgress?: (p: SyncProgress) => void,
  hooks: SyncHooks = {},
): Promise<SyncResult> {
  try {
    mark('start');
    const state = await ctx.store.state(model);
    mark('state');
    onProgress?.({ model, phase: 'ticket', loadedBytes: 0, totalBytes: 0 });
    // The request travels while the pinned and stored roots verify; nothing is trusted before both.
    const [known, answer] = await Promise.all([knownRoot(ctx.trustRoot, ctx.store), fetchTicket(ctx, model, state)]);
    mark('ticket-answered');
    const root = await acceptRoots(ctx.store, known, await newerRoots(ctx, answer, known), ctx.now());
    mark('roots');
    // SPEC 1.3–1.4: signatures, then expiry (freeze) and sequence (replay); a 304 re-checks the stored one.
    const ticket = await verifyTicket(answer.envelope, root, {
      now: ctx.now(),
      highestSequence: state.highestSequence,
    });
    const recordTicket = () => keepTicket(ctx, model, ticket, answer);
    mark('ticket-verified');
    // SPEC 11.1: telemetry for this version carries the proof that came with its ticket.
    if (answer.proof) await keepProof(ctx.store, model, answer.proof);
    if (state.active?.digest === ticket.manifestDigest) {
      await recordTicket();
      return { kind: 'up-to-date', version: state.active.version };
    }

    const ref = { digest: ticket.manifestDigest, version: ticket.version };
    const fetched = new Map<string, Uint8Array>();
    const planned = await plan(ctx, model, ticket, root, answer, fetched, onProgress, hooks);
    const { chunks, totalBytes, inlineBytes, verified } = planned;

    let loaded = 0;
    if (chunks.length > 0) onProgress?.({ model, phase: 'download', loadedBytes: 0, totalBytes });
    const stats = await downloadChunks(ctx.edge, ctx.store, chunks, ctx.parallel, (n) => {
      loaded += n;
      onProgress?.({ model, phase: 'download', loadedBytes: loaded, totalBytes });
    });
    for (const [digest, bytes] of fetched) stats.fetched.set(digest, bytes);
    stats.bytes += inlineBytes; // bytes that came inside the bundle count as downloaded
    stats.chunks += fetched.size;
    onProgress?.({ model, phase: 'activate', loadedBytes: totalBytes, totalBytes });
    mark('downloaded');
    await ctx.store.activate(model, ref, ticket.sequence); // SPEC 6.1
    mark('activated');
    await recordTicket();
    mark('ticket-recorded');
    await ctx.store.collectGarbage(); // SPEC 6.2
    mark('collected');
    return {
      kind: 'activated',
      version: ticket.version,
      digest: ticket.manifestDigest,
      downloadedBytes: stats.bytes,
      downloadedChunks: stats.chunks,
      resumedBytes: stats.resumedBytes,
      fetched: stats.fetched,
      ...(verified ? { manifest: verified } : {}),
    };
  } catch (e) {
    throw toSdkError(e);
  }
}
