/**
 * @module apps
 * Per-app device keys. They are public (shipped in web pages and apps), so they grant only
 * reads of the app's own models, and every device is rate-limited by (app, device).
 */
import { APP_KEY_HEADER } from '@modelfleet/protocol';
import { ApiError } from './http-error.ts';
import type { EdgeEnv } from './env.ts';
import { TtlCache } from './ttl-cache.ts';

export { APP_KEY_HEADER };
export const APP_KEY_PREFIX = 'mfa_';

export interface App {
  id: string;
  name: string;
  models: string[];
}

const apps = new TtlCache<App | null>();

export async function appForKey(env: EdgeEnv, key: string | undefined, ttlMs: number): Promise<App> {
  if (!key || !key.startsWith(APP_KEY_PREFIX) || key.length > 128) {
    throw new ApiError('app_key_invalid', `send the app's device key in the ${APP_KEY_HEADER} header (tickets also take it as ?key=); it starts with ${APP_KEY_PREFIX}`);
  }
  const app = await apps.get(key, ttlMs, Date.now(), async () => {
    const row = await env.DB.prepare('SELECT id, name, models FROM apps WHERE app_key = ?').bind(key).first<{ id: string; name: string; models: string }>();
    return row ? { id: row.id, name: row.name, models: JSON.parse(row.models) as string[] } : null;
  });
  if (!app) throw new ApiError('app_key_invalid', 'unknown app key; ask the operator for the app key of this app');
  return app;
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
  if (!success) throw new ApiError('rate_limited', 'too many requests from this device; back off and retry later', undefined, 429);
}
