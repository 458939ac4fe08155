/**
 * @module console/api
 * The console is a client of the public API: every read and write goes through the same /v1
 * routes in-process (no network hop), as the session's operator (auth/operators.ts actingAs: the
 * console holds no bearer token). Role checks, validation, compare-and-swap and audit therefore
 * behave exactly as for the CLI.
 */
import { ApiError } from '@modelfleet/server-shared';
import { ApiErrorBody } from '@modelfleet/protocol';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Env } from '../env.ts';
import type { ConsoleEnv } from './session.ts';

export type AppFetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

let appFetch: AppFetch | null = null;
/** Set once by the app that mounts the console (avoids an import cycle with app.ts). */
export const bindApi = (f: AppFetch) => void (appFetch = f);

/**
 * Calls the API in-process and checks the answer against `schema`, protocol's definition of what
 * the route answers (as the CLI does). The body is returned as the route wrote it: response
 * schemas have no defaults or transforms, so it is their output, with nothing dropped.
 */
export async function api<S extends z.core.$ZodType>(
  c: Context<ConsoleEnv>,
  schema: S,
  path: string,
  init: { method?: string; json?: unknown } = {},
): Promise<z.output<S>> {
  if (!appFetch) throw new Error('console: bindApi() was not called');
  const headers = new Headers();
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const request = new Request(new URL(`/v1${path}`, c.req.url), {
    method: init.method ?? 'GET',
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  const res = await appFetch(request, c.get('apiEnv'), executionCtx(c));
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const refusal = ApiErrorBody.safeParse(body);
    const error = refusal.success
      ? refusal.data.error
      : { code: 'internal' as const, message: `HTTP ${res.status}`, details: undefined };
    throw new ApiError(error.code, error.message, error.details, res.status);
  }
  const checked = z.safeParse(schema, body);
  if (!checked.success) {
    throw new ApiError('internal', `${path} answered in an unexpected shape: ${z.prettifyError(checked.error)}`);
  }
  return body as z.output<S>;
}

/** Like api(), but a missing thing is null instead of an error (optional panels). */
export async function apiOrNull<S extends z.core.$ZodType>(
  c: Context<ConsoleEnv>,
  schema: S,
  path: string,
): Promise<z.output<S> | null> {
  try {
    return await api(c, schema, path);
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
