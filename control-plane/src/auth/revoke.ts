/**
 * @module revoke
 * Ending an operator token. Revocation is immediate (nothing caches a token: auth/operators.ts),
 * ends the token's console sessions in the same batch, and is audited. Revoking twice changes
 * nothing and says so. The last working admin token cannot be revoked while no bootstrap
 * ADMIN_TOKEN is configured: that would leave nobody able to mint tokens again.
 */
import { ApiError } from '@modelfleet/server-shared';
import type { RevokeTokenResponse, TokenInfo } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';
import { auditStatementIf } from '../registry/audit.ts';
import { endSessionsOf } from './sessions.ts';

const SELECT_INFO =
  'SELECT id, role, label, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt FROM tokens';

export async function listTokens(db: D1Database): Promise<TokenInfo[]> {
  return (await db.prepare(`${SELECT_INFO} ORDER BY created_at`).all<TokenInfo>()).results;
}

export async function revokeToken(
  env: Env,
  id: string,
  operator: Operator,
  reason?: string,
  now = new Date(),
): Promise<RevokeTokenResponse> {
  const before = await env.DB.prepare(`${SELECT_INFO} WHERE id = ?`).bind(id).first<TokenInfo>();
  if (!before)
    throw new ApiError(
      'not_found',
      `no token ${id}; GET /v1/tokens lists them (the bootstrap ADMIN_TOKEN is ended by replacing the secret)`,
    );
  if (before.revokedAt) return { ...before, alreadyRevoked: true, sessionsEnded: 0 };

  const at = now.toISOString();
  // One batch, so the lockout check, the revocation, the sessions and the audit record agree even
  // when two admins revoke the last two admin tokens at once: the second update finds no other admin.
  const guarded = before.role === 'admin' && !env.ADMIN_TOKEN ? 1 : 0;
  const revokedNow = 'EXISTS (SELECT 1 FROM tokens WHERE id = ? AND revoked_at = ?)';
  const [update, sessions] = await env.DB.batch([
    env.DB.prepare(
      `UPDATE tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL
         AND (?3 = 0 OR (expires_at IS NOT NULL AND expires_at <= ?1) OR EXISTS (
           SELECT 1 FROM tokens o WHERE o.role = 'admin' AND o.id != ?2 AND o.revoked_at IS NULL AND (o.expires_at IS NULL OR o.expires_at > ?1)))`,
    ).bind(at, id, guarded),
    endSessionsOf(env.DB, id, at, revokedNow, [id, at]),
    auditStatementIf(
      env.DB,
      {
        actor: operator.actor,
        action: 'token.revoke',
        subject: `token/${id}`,
        before: { revokedAt: null },
        after: { revokedAt: at },
        ...(reason ? { reason } : {}),
      },
      at,
      revokedNow,
      [id, at],
    ),
  ]);
  if (update!.meta.changes === 1)
    return { ...before, revokedAt: at, alreadyRevoked: false, sessionsEnded: sessions!.meta.changes };

  const after = await env.DB.prepare(`${SELECT_INFO} WHERE id = ?`).bind(id).first<TokenInfo>();
  if (after?.revokedAt) return { ...after, alreadyRevoked: true, sessionsEnded: 0 }; // revoked by a concurrent request
  throw new ApiError(
    'last_admin',
    `token ${id} is the last working admin token and no bootstrap ADMIN_TOKEN is set; create another admin token first, then revoke this one`,
  );
}
