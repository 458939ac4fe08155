/**
 * @module console/api
 * The console is a client of the public API: every read and write goes through the same /v1
 * routes in-process (no network hop), as the session's operator (auth/operators.ts actingAs: the
 * console holds no bearer token). Role checks, validation, compare-and-swap and audit therefore
 * behave exactly as for the CLI.
 */
import { ApiError } from '@modelfleet/server-shared';
import type { ErrorCode } from '@modelfleet/protocol';
import type { Context } from 'hono';
import type { Env } from '../env.ts';
import type { ConsoleEnv } from './session.ts';

export type AppFetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

let appFetch: AppFetch | null = null;
/** Set once by the app that mounts the console (avoids an import cycle with app.ts). */
export const bindApi = (f: AppFetch) => void (appFetch = f);

export async function api<T = any>(c: Context<ConsoleEnv>, path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  if (!appFetch) throw new Error('console: bindApi() was not called');
  const headers = new Headers();
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const request = new Request(new URL(`/v1${path}`, c.req.url), {
    method: init.method ?? 'GET', headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  const res = await appFetch(request, c.get('apiEnv'), executionCtx(c));
  const body = (await res.json().catch(() => null)) as any;
  if (!res.ok) throw new ApiError((body?.error?.code ?? 'internal') as ErrorCode, body?.error?.message ?? `HTTP ${res.status}`, body?.error?.details, res.status);
  return body as T;
}

/** Like api(), but a missing thing is null instead of an error (optional panels). */
export async function apiOrNull<T = any>(c: Context<ConsoleEnv>, path: string): Promise<T | null> {
  try {
    return await api<T>(c, path);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.code === 'forbidden')) return null;
    throw e;
  }
}

/** The Worker's execution context (absent when the app is driven without one, e.g. app.request). */
function executionCtx(c: Context<ConsoleEnv>): ExecutionContext {
  try {
    return c.executionCtx as unknown as ExecutionContext;
  } catch {
    return { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
  }
}
