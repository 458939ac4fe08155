/**
 * @module tickets
 * Resolves which version a device should run and signs a ticket for it (DESIGN §5). For now
 * the answer is the model's `champion` alias; rollouts will refine it per device bucket.
 */
import { type Envelope, type Signer, type Ticket, signTicket } from '@modelfleet/protocol';
import { ApiError } from './http-error.ts';
import type { EdgeEnv } from './env.ts';
import { signerFromSecret } from './secret-signer.ts';
import { TtlCache } from './ttl-cache.ts';

export interface Assignment {
  model: string;
  version: number;
  manifestDigest: string;
  sequence: number;
  stage: string;
}

const assignments = new TtlCache<Assignment>();
const tickets = new TtlCache<{ envelope: Envelope; etag: string }>();
export function ticketSigner(env: EdgeEnv): Promise<Signer> {
  return signerFromSecret('TICKET_KEY', env.TICKET_KEY);
}

async function loadAssignment(env: EdgeEnv, model: string): Promise<Assignment> {
  const row = await env.DB.prepare(
    `SELECT m.sequence, v.version, v.manifest_digest, v.status, a.name AS alias
       FROM models m
       LEFT JOIN aliases a ON a.model_id = m.id AND a.name = 'champion'
       LEFT JOIN versions v ON v.model_id = m.id AND v.version = a.version
      WHERE m.name = ?`,
  )
    .bind(model)
    .first<{ sequence: number; version: number | null; manifest_digest: string | null; status: string | null; alias: string | null }>();
  if (!row) throw new ApiError('unknown_model', `no model named ${model}`);
  if (row.version === null || row.manifest_digest === null || row.status !== 'active') {
    throw new ApiError('unknown_version', `model ${model} has no champion yet; an operator must set the champion alias`);
  }
  return { model, version: row.version, manifestDigest: row.manifest_digest, sequence: row.sequence, stage: 'champion' };
}

/** The signed ticket for a model, reused within the cache TTL (signing is the costly part). */
export async function ticketFor(env: EdgeEnv, model: string, ttlMs: number, ticketTtlSeconds: number): Promise<{ envelope: Envelope; etag: string }> {
  const now = Date.now();
  const a = await assignments.get(model, ttlMs, now, () => loadAssignment(env, model));
  const key = `${a.model}|${a.version}|${a.sequence}|${a.stage}`;
  return tickets.get(key, ttlMs, now, async () => {
    const ticket: Ticket = {
      type: 'modelfleet/ticket',
      specVersion: 1,
      model: a.model,
      version: a.version,
      manifestDigest: a.manifestDigest,
      rolloutId: null,
      stage: a.stage,
      sequence: a.sequence,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ticketTtlSeconds * 1000).toISOString(),
    };
    const envelope = await signTicket(ticket, await ticketSigner(env));
    return { envelope, etag: `W/"${a.sequence}-${a.version}-${a.manifestDigest.slice(0, 16)}"` };
  });
}

/** For tests and the control plane after it moves an alias in the same isolate. */
export function forgetAssignments(): void {
  assignments.clear();
  tickets.clear();
}
