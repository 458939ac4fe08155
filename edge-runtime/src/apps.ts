/**
 * @module apps
 * Per-app device keys. They are public (shipped in web pages and apps), so they grant only
 * reads of the app's own models, and every device is rate-limited by (app, device). An app may
 * have several keys while one is rotated out (control-plane/src/registry/app-keys.ts).
 */
import { APP_KEY_HEADER, sha256Hex, utf8 } from '@modelfleet/protocol';
import { APP_KEY_PREFIX, ApiError, TtlCache } from '@modelfleet/server-shared';
import type { EdgeEnv } from './env.ts';

export { APP_KEY_HEADER };

export interface App {
  id: string;
  name: string;
  models: string[];
}

/** A key's app, and when the key stops working (ms; null = no end), checked on every request. */
const apps = new TtlCache<{ app: App; expiresAt: number | null } | null>();

export async function appForKey(env: EdgeEnv, key: string | undefined, ttlMs: number): Promise<App> {
  if (!key || !key.startsWith(APP_KEY_PREFIX) || key.length > 128) {
    throw new ApiError(
      'app_key_invalid',
      `send the app's device key in the ${APP_KEY_HEADER} header (tickets also take it as ?key=); it starts with ${APP_KEY_PREFIX}`,
    );
  }
  // One indexed lookup by the key's SHA-256 ('plain:' + key for keys minted before migration 0008).
  // The key's end is cached with it and checked on every request, so a grace period ends on time;
  // an end set after the entry was loaded (a revocation, a rotation) is seen at most ttlMs late.
  const found = await apps.get(key, ttlMs, Date.now(), async () => {
    const row = await env.DB.prepare(
      'SELECT a.id, a.name, a.models, k.expires_at FROM app_keys k JOIN apps a ON a.id = k.app_id WHERE k.key_hash IN (?, ?)',
    )
      .bind(await sha256Hex(utf8(key)), `plain:${key}`)
      .first<{ id: string; name: string; models: string; expires_at: string | null }>();
    return row
      ? {
          app: { id: row.id, name: row.name, models: JSON.parse(row.models) as string[] },
          expiresAt: row.expires_at ? Date.parse(row.expires_at) : null,
        }
      : null;
  });
  if (!found) throw new ApiError('app_key_invalid', 'unknown app key; ask the operator for the app key of this app');
  if (found.expiresAt !== null && found.expiresAt <= Date.now()) {
    throw new ApiError(
      'app_key_invalid',
      "this app key was rotated or revoked; ship the app's current key (the operator has it)",
    );
  }
  return found.app;
}

export function assertAppServesModel(app: App, model: string): void {
  if (!app.models.includes('*') && !app.models.includes(model)) {
    throw new ApiError('model_not_in_app', `app ${app.name} is not allowed to fetch model ${model}`);
  }
}

/** Workers rate limiting, keyed per device of an app; absent binding means no limit (tests). */
export async function limitDevice(env: EdgeEnv, app: App, device: string): Promise<void> {
  if (!env.DEVICE_LIMITER) return;
  const { success } = await env.DEVICE_LIMITER.limit({ key: `${app.id}:${device}` });
  if (!success)
    throw new ApiError('rate_limited', 'too many requests from this device; back off and retry later', undefined, 429);
}
