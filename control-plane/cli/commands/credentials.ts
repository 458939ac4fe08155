/**
 * @module cli/commands/credentials
 * `tokens create|list|revoke` and `apps create|keys|rotate-key|revoke-key`: minting and ending
 * operator tokens and device app keys.
 */
import {
  type AppKeyInfo,
  AppKeysResponse,
  CreateAppResponse,
  CreateTokenResponse,
  RevokeAppKeyResponse,
  RevokeTokenResponse,
  RotateAppKeyResponse,
  TokenList,
} from '@modelfleet/protocol';
import { Api, type Ctx, emit, table } from '../context.ts';
import { CliError } from '../errors.ts';

const api = (c: Ctx) => Api.from(c.io, c.globals);
const enc = encodeURIComponent;
const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : '-');

export async function createToken(c: Ctx, o: { role: string; label?: string; expiresIn?: string }): Promise<void> {
  const t = await api(c).request(CreateTokenResponse, 'POST', '/v1/tokens', {
    role: o.role,
    ...(o.label ? { label: o.label } : {}),
    ...(o.expiresIn ? { expiresInSeconds: Number(o.expiresIn) } : {}),
  });
  emit(c, t, () => `${t.token}\n(${t.role}, id ${t.id}${t.expiresAt ? `, expires ${t.expiresAt}` : ''}; shown once)`);
}

export async function listTokens(c: Ctx): Promise<void> {
  const { tokens } = await api(c).request(TokenList, 'GET', '/v1/tokens');
  emit(c, tokens, () =>
    table(
      tokens.map((t) => ({
        id: t.id,
        role: t.role,
        label: t.label,
        created: when(t.createdAt),
        expires: when(t.expiresAt),
        revoked: when(t.revokedAt),
      })),
    ),
  );
}

export async function revokeToken(c: Ctx, id: string, o: { reason?: string }): Promise<void> {
  const t = await api(c).request(
    RevokeTokenResponse,
    'POST',
    `/v1/tokens/${enc(id)}/revoke`,
    o.reason ? { reason: o.reason } : {},
  );
  emit(c, t, () =>
    t.alreadyRevoked
      ? `token ${t.id} was already revoked at ${t.revokedAt}; nothing changed`
      : `token ${t.id} (${t.role}) revoked at ${t.revokedAt}; ${t.sessionsEnded} console session(s) ended`,
  );
}

export async function createApp(c: Ctx, o: { name: string; models: string }): Promise<void> {
  const a = await api(c).request(CreateAppResponse, 'POST', '/v1/apps', {
    name: o.name,
    models: o.models.split(',').map((m) => m.trim()),
  });
  emit(c, a, () => `${a.appKey}\n(app ${a.id}, models ${a.models.join(', ')}; public: ship it in the app)`);
}

const keyRows = (keys: AppKeyInfo[]) =>
  table(
    keys.map((k) => ({
      key: k.id,
      ends: `…${k.hint}`,
      created: when(k.createdAt),
      'works until': when(k.expiresAt),
      revoked: when(k.revokedAt),
    })),
  );

export async function listAppKeys(c: Ctx, appId: string): Promise<void> {
  const r = await api(c).request(AppKeysResponse, 'GET', `/v1/apps/${enc(appId)}/keys`);
  emit(c, r, () => keyRows(r.keys));
}

export async function rotateAppKey(
  c: Ctx,
  appId: string,
  o: { graceSeconds?: string; reason?: string },
): Promise<void> {
  const grace = o.graceSeconds === undefined ? undefined : Number(o.graceSeconds);
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0))
    throw new CliError('usage', 'bad_request', `--grace-seconds must be a whole number ≥ 0, got ${o.graceSeconds}`);
  const r = await api(c).request(RotateAppKeyResponse, 'POST', `/v1/apps/${enc(appId)}/keys/rotate`, {
    ...(grace !== undefined ? { graceSeconds: grace } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  });
  emit(c, r, () => [
    r.appKey,
    `(app ${r.appId}, key ${r.keyId}; ship it in the app — the old keys work until the time shown)`,
    keyRows(r.keys),
  ]);
}

export async function revokeAppKey(c: Ctx, appId: string, keyId: string, o: { reason?: string }): Promise<void> {
  const k = await api(c).request(
    RevokeAppKeyResponse,
    'POST',
    `/v1/apps/${enc(appId)}/keys/${enc(keyId)}/revoke`,
    o.reason ? { reason: o.reason } : {},
  );
  emit(c, k, () =>
    k.alreadyRevoked
      ? `key ${k.id} was already revoked at ${k.revokedAt}; nothing changed`
      : `key ${k.id} (…${k.hint}) revoked at ${k.revokedAt}; edge isolates may accept it for EDGE_CACHE_TTL_MS more`,
  );
}
