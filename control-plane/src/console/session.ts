/**
 * @module console/session
 * Console sign-in: the operator token is checked once, at sign-in, and the browser gets a random
 * session id (auth/sessions.ts) in an HttpOnly, SameSite=Strict cookie scoped to /console — never
 * the token. Every request looks the session and its token up again (sign-out, revocation, expiry).
 * Writes need a CSRF token bound to the session (a digest of the session id, so a forged page
 * cannot know it) and a same-origin Origin header.
 */
import { ApiError } from '@modelfleet/server-shared';
import { type OperatorRole, ROLE_RANK, sha256Hex, timingSafeEqual, utf8 } from '@modelfleet/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { actingAs } from '../auth/operators.ts';
import { lookupSession } from '../auth/sessions.ts';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';

export const COOKIE = 'mf_console';

export interface ConsoleEnv {
  Bindings: Env;
  /** `apiEnv`: the bindings through which console/api.ts calls the API as this operator. */
  Variables: { operator: Operator; session: string; apiEnv: Env; csrf: string };
}

export const csrfFor = async (sessionId: string) =>
  (await sha256Hex(utf8(`modelfleet/console/csrf:${sessionId}`))).slice(0, 40);
export const can = (operator: Operator, role: OperatorRole) => ROLE_RANK[operator.role] >= ROLE_RANK[role];

export function setSessionCookie(c: Context, sessionId: string, expiresAt: string): void {
  setCookie(c, COOKIE, sessionId, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/console',
    maxAge: Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000)),
    secure: new URL(c.req.url).protocol === 'https:',
  });
}

export const clearSessionCookie = (c: Context) => deleteCookie(c, COOKIE, { path: '/console' });

/** Pages: a signed-in operator or a redirect to the sign-in form saying why. */
export const requireSession: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const id = getCookie(c, COOKIE);
  if (!id) return c.redirect('/console/login', 303);
  const found = await lookupSession(c.env, id);
  if (found.kind === 'refused') {
    clearSessionCookie(c);
    return c.redirect(`/console/login?error=${found.why}`, 303);
  }
  c.set('operator', found.operator);
  c.set('session', id);
  c.set('apiEnv', actingAs(c.env, found.operator));
  c.set('csrf', await csrfFor(id));
  await next();
};

/**
 * Writes: same-origin Origin (or Referer) and the session's CSRF token in the form field `_csrf`
 * or the `x-csrf-token` header. Refused with a coded error; nothing runs.
 */
export const requireCsrf: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const origin = c.req.header('origin') ?? (c.req.header('referer') ? new URL(c.req.header('referer')!).origin : null);
  if (origin !== new URL(c.req.url).origin)
    throw new ApiError('csrf_failed', 'cross-site request refused (Origin does not match)');
  let sent = c.req.header('x-csrf-token') ?? '';
  if (!sent && (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form = await c.req.parseBody();
    sent = typeof form._csrf === 'string' ? form._csrf : '';
  }
  if (!sent || !timingSafeEqual(utf8(sent), utf8(c.get('csrf'))))
    throw new ApiError('csrf_failed', 'the form is stale or forged; reload the page and try again');
  await next();
};
