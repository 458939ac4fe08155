/**
 * @module operators
 * Operator authentication: bearer tokens bound to a role (viewer < publisher < operator <
 * admin). Only SHA-256 hashes of tokens are stored; the bootstrap admin token is a secret.
 */
import { APP_KEY_PREFIX, ApiError } from '@modelfleet/edge-runtime';
import { type OperatorRole, ROLE_RANK, sha256Hex, timingSafeEqual, toBase64, utf8 } from '@modelfleet/protocol';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Operator } from '../http/context.ts';

export const TOKEN_PREFIX = 'mft_';

export function randomSecret(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return prefix + toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function hashToken(token: string): Promise<string> {
  return sha256Hex(utf8(token));
}

async function authenticate(env: AppEnv['Bindings'], header: string | undefined): Promise<Operator> {
  const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) throw new ApiError('unauthorized', 'send an operator token: Authorization: Bearer mft_…');
  return authenticateToken(env, token);
}

/** The operator a token names (the console's session cookie holds one), or a coded refusal. */
export async function authenticateToken(env: AppEnv['Bindings'], token: string): Promise<Operator> {
  if (token.startsWith(APP_KEY_PREFIX)) {
    throw new ApiError('forbidden', 'this is a device app key; operator routes need an operator token');
  }
  if (env.ADMIN_TOKEN && timingSafeEqual(utf8(token), utf8(env.ADMIN_TOKEN))) {
    return { actor: 'admin (bootstrap token)', role: 'admin' };
  }
  const row = await env.DB.prepare('SELECT id, role, label, expires_at, revoked_at FROM tokens WHERE hash = ?')
    .bind(await hashToken(token))
    .first<{ id: string; role: OperatorRole; label: string; expires_at: string | null; revoked_at: string | null }>();
  if (!row || row.revoked_at) throw new ApiError('unauthorized', 'unknown or revoked token; ask an admin for a new one');
  if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) {
    throw new ApiError('token_expired', `token expired at ${row.expires_at}; ask an admin for a new one`);
  }
  return { actor: `token:${row.id}${row.label ? ` (${row.label})` : ''}`, role: row.role };
}

/** Authenticates the caller and requires at least `role`. */
export function requireRole(role: OperatorRole): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const operator = await authenticate(c.env, c.req.header('authorization'));
    if (ROLE_RANK[operator.role] < ROLE_RANK[role]) {
      throw new ApiError('forbidden', `this needs the ${role} role; your token has ${operator.role}`);
    }
    c.set('operator', operator);
    await next();
  };
}
