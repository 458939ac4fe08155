/**
 * @module ticket
 * The ticket exchange of the sync flow (protocol/SPEC.md 1): the request with its bundle query,
 * ETag polling and attestation, the roots that come with (or after) the answer, and the verified
 * ticket stored for the next poll. Nothing here trusts the answer; sync.ts verifies it.
 */
import {
  type Envelope,
  type Root,
  type Ticket,
  type TicketBundle,
  ATTESTATION_HEADER,
  PROOF_HEADER,
  bundleQuery,
  parseEnvelope,
  parseTicketResponse,
  windowOf,
} from '@modelfleet/protocol';
import { type EdgeClient, edgeGet, edgeJson } from './http.ts';
import { knownRootVersion } from './roots.ts';
import type { ModelState, ModelStore } from './store.ts';
import { mark } from './sync-marks.ts';
import { latestProof } from './telemetry/proofs.ts';

/** What the ticket exchange needs of the device; sync.ts's SyncContext extends it. */
export interface TicketContext {
  edge: EdgeClient;
  store: ModelStore;
  trustRoot: Envelope;
  deviceId: string;
  now: () => Date;
  /** Ticket query suffix describing the device for rollout targeting (profile.ts), as known now. */
  profileQuery?: () => string;
  /** A fresh attestation token (`<provider>:<token>`, SPEC 11.4), asked for when the device holds no attested proof of today. */
  attest?: () => Promise<string | null>;
}

/** The edge's answer to a ticket request, before anything in it is trusted. */
export interface TicketAnswer {
  envelope: Envelope;
  bundle: TicketBundle | null;
  etag: string | null;
  notModified: boolean;
  proof: string | null;
}

/** The attestation header for a ticket request: only when the stored proof is not an attested one from today (proofs count UTC days, whatever the window length). */
async function attestation(ctx: TicketContext, model: string): Promise<Record<string, string>> {
  if (!ctx.attest) return {};
  const held = await latestProof(ctx.store, model, ctx.edge.report);
  if (held?.attested && held.day === windowOf(ctx.now())) return {};
  const token = await ctx.attest().catch((e) => {
    ctx.edge.report?.('attest', e, { model });
    return null;
  });
  return token ? { [ATTESTATION_HEADER]: token } : {};
}

/** SPEC 1.5–1.6: asks for the ticket bundle, or a 304 when the stored ticket is still current. */
export async function fetchTicket(ctx: TicketContext, model: string, state: ModelState): Promise<TicketAnswer> {
  // SPEC 1.6: ask for the bundle; name the complete manifests held so the edge leaves them out.
  const have = [state.active?.digest, state.lastKnownGood?.digest].filter((d): d is string => !!d);
  const profile = ctx.profileQuery?.() ?? '';
  const rootVersion = await knownRootVersion(ctx.trustRoot, ctx.store);
  mark('ticket-request');
  const path = `/tickets/${encodeURIComponent(model)}?device=${encodeURIComponent(ctx.deviceId)}${profile}${bundleQuery(rootVersion, have)}`;
  const prev = state.ticket;
  // SPEC 1.5: poll with If-None-Match while the stored ticket has more than 10 % of its life left.
  const fresh =
    prev?.etag &&
    Date.parse(prev.expiresAt) - ctx.now().getTime() > 0.1 * (Date.parse(prev.expiresAt) - Date.parse(prev.issuedAt));
  const res = await edgeGet(
    ctx.edge,
    path,
    { ...(fresh ? { 'if-none-match': prev!.etag! } : {}), ...(await attestation(ctx, model)) },
    true,
  );
  const proof = res.headers.get(PROOF_HEADER);
  // A 304 answers a bundle's ETag, which covers the newest root: nothing new to verify but the stored ticket.
  if (res.status === 304 && prev)
    return { envelope: prev.envelope, bundle: null, etag: prev.etag, notModified: prev.bundled === true, proof };
  const parsed = parseTicketResponse(await res.text());
  return {
    envelope: parsed.ticket,
    bundle: parsed.bundle,
    etag: res.headers.get('etag') ?? prev?.etag ?? null,
    notModified: false,
    proof,
  };
}

/** SPEC 1.1–1.2: newer roots come with the bundle; a server without bundles is asked for them. */
export async function newerRoots(ctx: TicketContext, answer: TicketAnswer, known: Root): Promise<Envelope[]> {
  if (answer.bundle) return answer.bundle.roots;
  if (answer.notModified) return [];
  const { roots } = await edgeJson<{ roots: unknown[] }>(ctx.edge, `/roots?since=${known.version}`);
  return roots.map((r) => parseEnvelope(JSON.stringify(r), 'root'));
}

/** Stores the verified ticket (SPEC 1.4's highest sequence, and what SPEC 1.5's polling needs). */
export async function keepTicket(
  ctx: TicketContext,
  model: string,
  ticket: Ticket,
  answer: TicketAnswer,
): Promise<void> {
  const s = await ctx.store.state(model);
  await ctx.store.putState({
    ...s,
    highestSequence: Math.max(s.highestSequence, ticket.sequence),
    ticket: {
      etag: answer.etag,
      envelope: answer.envelope,
      expiresAt: ticket.expiresAt,
      issuedAt: ticket.issuedAt,
      fetchedAt: ctx.now().toISOString(),
      digest: ticket.manifestDigest,
      ...(answer.bundle || answer.notModified ? { bundled: true } : {}),
      ...(ticket.windowSeconds !== undefined ? { windowSeconds: ticket.windowSeconds } : {}),
    },
  });
}
