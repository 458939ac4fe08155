/**
 * @module app-keys
 * An app's device keys (table app_keys). A key is public — it ships inside web pages and apps — so
 * rotating one is about retiring a copy that leaked or is abused, without stranding the devices
 * that still carry it: the old key keeps working for a grace period while a release ships the new
 * one, then the edge refuses it (`app_key_invalid`). Only each key's SHA-256 is stored; the edge
 * finds a key with one indexed lookup (the edge's appForKey).
 *
 * @example
 * const { appKey } = await rotateAppKey(env, 'ab12cd34', { graceSeconds: 3600 }, operator);
 */
import { APP_KEY_PREFIX, ApiError } from '@modelfleet/server-shared';
import {
  type AppKeyInfo,
  type RevokeTokenResponse,
  type RotateAppKeyResponse,
  sha256Hex,
  utf8,
} from '@modelfleet/protocol';
import { randomSecret } from '../auth/operators.ts';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';
import { auditStatement, auditStatementIf } from './audit.ts';

const SELECT_INFO =
  'SELECT id, hint, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt FROM app_keys';

/** A fresh key for `appId` and the statement that stores its hash. */
export async function mintAppKey(
  db: D1Database,
  appId: string,
  at: string,
): Promise<{ appKey: string; keyId: string; insert: D1PreparedStatement }> {
  const appKey = randomSecret(APP_KEY_PREFIX);
  const keyId = `k${crypto.randomUUID().slice(0, 8)}`;
  const insert = db
    .prepare('INSERT INTO app_keys (key_hash, id, app_id, hint, created_at) VALUES (?, ?, ?, ?, ?)')
    .bind(await sha256Hex(utf8(appKey)), keyId, appId, appKey.slice(-4), at);
  return { appKey, keyId, insert };
}

async function requireApp(db: D1Database, appId: string): Promise<void> {
  const row = await db.prepare('SELECT id FROM apps WHERE id = ?').bind(appId).first();
  if (!row) throw new ApiError('not_found', `no app ${appId}; the id is the one POST /v1/apps returned`);
}

export async function listAppKeys(db: D1Database, appId: string): Promise<AppKeyInfo[]> {
  await requireApp(db, appId);
  return (await db.prepare(`${SELECT_INFO} WHERE app_id = ? ORDER BY created_at, id`).bind(appId).all<AppKeyInfo>())
    .results;
}

/**
 * A new key for the app; its other keys stop working `graceSeconds` from now (0: now). A grace
 * only ever shortens a key's life: rotating twice does not revive a key the first rotation ended.
 */
export async function rotateAppKey(
  env: Env,
  appId: string,
  o: { graceSeconds: number; reason?: string | undefined },
  operator: Operator,
  now = new Date(),
): Promise<RotateAppKeyResponse> {
  await requireApp(env.DB, appId);
  const at = now.toISOString();
  const end = new Date(now.getTime() + o.graceSeconds * 1000).toISOString();
  const { appKey, keyId, insert } = await mintAppKey(env.DB, appId, at);
  await env.DB.batch([
    env.DB.prepare(
      'UPDATE app_keys SET expires_at = ?1 WHERE app_id = ?2 AND (expires_at IS NULL OR expires_at > ?1)',
    ).bind(end, appId),
    insert,
    auditStatement(
      env.DB,
      {
        actor: operator.actor,
        action: 'app.key.rotate',
        subject: `app/${appId}`,
        after: { keyId, oldKeysEndAt: end, graceSeconds: o.graceSeconds },
        ...(o.reason ? { reason: o.reason } : {}),
      },
      at,
    ),
  ]);
  return { appId, appKey, keyId, keys: await listAppKeys(env.DB, appId) };
}

/** Ends one key now. Revoking a revoked key changes nothing and says so. */
export async function revokeAppKey(
  env: Env,
  appId: string,
  keyId: string,
  operator: Operator,
  reason?: string,
  now = new Date(),
): Promise<AppKeyInfo & Pick<RevokeTokenResponse, 'alreadyRevoked'>> {
  await requireApp(env.DB, appId);
  const find = () =>
    env.DB.prepare(`${SELECT_INFO} WHERE app_id = ? AND id = ?`).bind(appId, keyId).first<AppKeyInfo>();
  const before = await find();
  if (!before)
    throw new ApiError('not_found', `app ${appId} has no key ${keyId}; GET /v1/apps/${appId}/keys lists them`);
  if (before.revokedAt) return { ...before, alreadyRevoked: true };
  const at = now.toISOString();
  const [update] = await env.DB.batch([
    env.DB.prepare(
      `UPDATE app_keys SET revoked_at = ?1, expires_at = CASE WHEN expires_at IS NULL OR expires_at > ?1 THEN ?1 ELSE expires_at END
         WHERE app_id = ?2 AND id = ?3 AND revoked_at IS NULL`,
    ).bind(at, appId, keyId),
    auditStatementIf(
      env.DB,
      {
        actor: operator.actor,
        action: 'app.key.revoke',
        subject: `app/${appId}`,
        before: { keyId, expiresAt: before.expiresAt },
        after: { keyId, revokedAt: at },
        ...(reason ? { reason } : {}),
      },
      at,
      'EXISTS (SELECT 1 FROM app_keys WHERE id = ? AND revoked_at = ?)',
      [keyId, at],
    ),
  ]);
  return { ...(await find())!, alreadyRevoked: update!.meta.changes === 0 };
}
