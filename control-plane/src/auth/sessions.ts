/**
 * @module sessions
 * Console sessions, kept server side. Signing in with a token makes a random 256-bit session id;
 * the browser's cookie holds that id, D1 holds only its SHA-256 with the token it stands for. Every
 * console request looks the session up together with its token, so signing out, revoking the token
 * or its expiry ends the session at once. A session id is never a bearer token: the API does not
 * know it (identify() looks only at tokens).
 *
 * @example
 * const { id } = await createSession(env, await identify(env, token));
 * await lookupSession(env, id); // { kind: 'ok', operator, tokenId }
 */
import { sha256Hex, toBase64, utf8 } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';
import { type Identity, bootstrapTokenId, tokenActor } from './operators.ts';

export const SESSION_PREFIX = 'mfs_';
/** A session lasts at most this long, and never past its token's expiry. */
export const SESSION_SECONDS = 12 * 3600;
/** Ended and expired rows are deleted this long after their end (at the next sign-in). */
const KEEP_ENDED_SECONDS = 86400;

export type SessionLookup =
  | { kind: 'ok'; operator: Operator; tokenId: string }
  /** Why there is no session; the sign-in page says it in words. */
  | { kind: 'refused'; why: 'session_ended' | 'session_expired' | 'unauthorized' | 'token_expired' };

const hashId = (id: string) => sha256Hex(utf8(id));
const wellFormed = (id: string) => id.length === SESSION_PREFIX.length + 43 && id.startsWith(SESSION_PREFIX);

export async function createSession(
  env: Env,
  identity: Identity,
  now = new Date(),
): Promise<{ id: string; expiresAt: string }> {
  const id =
    SESSION_PREFIX +
    toBase64(crypto.getRandomValues(new Uint8Array(32)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const cap = now.getTime() + SESSION_SECONDS * 1000;
  const expiresAt = new Date(identity.expiresAt ? Math.min(cap, Date.parse(identity.expiresAt)) : cap).toISOString();
  const stale = new Date(now.getTime() - KEEP_ENDED_SECONDS * 1000).toISOString();
  await env.DB.batch([
    env.DB.prepare(
      'INSERT INTO console_sessions (id_hash, token_id, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ).bind(await hashId(id), identity.tokenId, identity.operator.role, now.toISOString(), expiresAt),
    env.DB.prepare('DELETE FROM console_sessions WHERE expires_at < ?1 OR ended_at < ?1').bind(stale),
  ]);
  return { id, expiresAt };
}

/** The session an id names, checked with its token now, or why it is refused. */
export async function lookupSession(env: Env, id: string, now = Date.now()): Promise<SessionLookup> {
  if (!wellFormed(id)) return { kind: 'refused', why: 'session_ended' };
  const row = await env.DB.prepare(
    `SELECT s.token_id, s.expires_at, s.ended_at, t.role, t.label, t.expires_at AS token_expires_at, t.revoked_at
       FROM console_sessions s LEFT JOIN tokens t ON t.id = s.token_id WHERE s.id_hash = ?`,
  )
    .bind(await hashId(id))
    .first<{
      token_id: string;
      expires_at: string;
      ended_at: string | null;
      role: Operator['role'] | null;
      label: string | null;
      token_expires_at: string | null;
      revoked_at: string | null;
    }>();
  if (!row || row.ended_at) return { kind: 'refused', why: 'session_ended' };
  if (Date.parse(row.expires_at) <= now) return { kind: 'refused', why: 'session_expired' };
  if (row.token_id.startsWith('bootstrap:')) {
    // The secret may have been replaced (or removed) since: the old one's sessions end with it.
    const current = env.ADMIN_TOKEN ? await bootstrapTokenId(env.ADMIN_TOKEN) : null;
    return current === row.token_id
      ? { kind: 'ok', operator: { actor: 'admin (bootstrap token)', role: 'admin' }, tokenId: row.token_id }
      : { kind: 'refused', why: 'unauthorized' };
  }
  if (!row.role || row.revoked_at) return { kind: 'refused', why: 'unauthorized' };
  if (row.token_expires_at && Date.parse(row.token_expires_at) <= now) return { kind: 'refused', why: 'token_expired' };
  return {
    kind: 'ok',
    operator: { actor: tokenActor(row.token_id, row.label ?? ''), role: row.role },
    tokenId: row.token_id,
  };
}

/** Signs a session out; the id no longer opens anything. Ending an ended or unknown session is a no-op. */
export async function endSession(env: Env, id: string, at = new Date().toISOString()): Promise<void> {
  if (!wellFormed(id)) return;
  await env.DB.prepare('UPDATE console_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL')
    .bind(at, await hashId(id))
    .run();
}

/** Ends every open session of a token, if `condition` holds (for the batch that revokes it). */
export const endSessionsOf = (
  db: D1Database,
  tokenId: string,
  at: string,
  condition = '1',
  conditionParams: unknown[] = [],
): D1PreparedStatement =>
  db
    .prepare(`UPDATE console_sessions SET ended_at = ? WHERE token_id = ? AND ended_at IS NULL AND ${condition}`)
    .bind(at, tokenId, ...conditionParams);
