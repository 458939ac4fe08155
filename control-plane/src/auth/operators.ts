/**
 * @module operators
 * Operator authentication: bearer tokens bound to a role (viewer < publisher < operator <
 * admin). Only SHA-256 hashes of tokens are stored; the bootstrap admin token is a secret.
 * Nothing is cached: a revoked or expired token is refused on the next request.
 */
import { APP_KEY_PREFIX, ApiError } from '@modelfleet/server-shared';
import { type OperatorRole, ROLE_RANK, sha256Hex, timingSafeEqual, toBase64, utf8 } from '@modelfleet/protocol';
import type { MiddlewareHandler } from 'hono';
import type { Env } from '../env.ts';
import type { AppEnv, Operator } from '../http/context.ts';

export const TOKEN_PREFIX = 'mft_';

export function randomSecret(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return prefix + toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function hashToken(token: string): Promise<string> {
  return sha256Hex(utf8(token));
}

/** Who a token is: the operator, and the id its sessions and revocation refer to. */
export interface Identity {
  operator: Operator;
  /** The tokens row id, or `bootstrap:<digest prefix>` for the ADMIN_TOKEN secret (so a new secret ends the old one's sessions). */
  tokenId: string;
  expiresAt: string | null;
}

export const bootstrapTokenId = async (secret: string) => `bootstrap:${(await hashToken(secret)).slice(0, 16)}`;

async function authenticate(env: Env, header: string | undefined): Promise<Operator> {
  const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) throw new ApiError('unauthorized', 'send an operator token: Authorization: Bearer mft_…');
  return (await identify(env, token)).operator;
}

/** The identity a token names, or a coded refusal (unknown, revoked, expired, an app key). */
export async function identify(env: Env, token: string): Promise<Identity> {
  if (token.startsWith(APP_KEY_PREFIX)) {
    throw new ApiError('forbidden', 'this is a device app key; operator routes need an operator token');
  }
  if (env.ADMIN_TOKEN && timingSafeEqual(utf8(token), utf8(env.ADMIN_TOKEN))) {
    return {
      operator: { actor: 'admin (bootstrap token)', role: 'admin' },
      tokenId: await bootstrapTokenId(env.ADMIN_TOKEN),
      expiresAt: null,
    };
  }
  const row = await env.DB.prepare('SELECT id, role, label, expires_at, revoked_at FROM tokens WHERE hash = ?')
    .bind(await hashToken(token))
    .first<{ id: string; role: OperatorRole; label: string; expires_at: string | null; revoked_at: string | null }>();
  if (!row || row.revoked_at)
    throw new ApiError('unauthorized', 'unknown or revoked token; ask an admin for a new one');
  if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) {
    throw new ApiError('token_expired', `token expired at ${row.expires_at}; ask an admin for a new one`);
  }
  return {
    operator: { actor: tokenActor(row.id, row.label), role: row.role },
    tokenId: row.id,
    expiresAt: row.expires_at,
  };
}

export const tokenActor = (id: string, label: string) => `token:${id}${label ? ` (${label})` : ''}`;

// The console calls the API in-process as its signed-in operator without holding a bearer token:
// it passes an env made here. Only code in this isolate can make one; nothing on the wire can.
const delegated = new WeakMap<object, Operator>();

/** A copy of `env` through which in-process API requests act as `operator` (already authenticated). */
export function actingAs(env: Env, operator: Operator): Env {
  const copy = { ...env };
  delegated.set(copy, operator);
  return copy;
}

/** Authenticates the caller and requires at least `role`. */
export function requireRole(role: OperatorRole): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const operator = delegated.get(c.env) ?? (await authenticate(c.env, c.req.header('authorization')));
    if (ROLE_RANK[operator.role] < ROLE_RANK[role]) {
      throw new ApiError('forbidden', `this needs the ${role} role; your token has ${operator.role}`);
    }
    c.set('operator', operator);
    await next();
  };
}
