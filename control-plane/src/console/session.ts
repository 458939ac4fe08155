/**
 * @module console/session
 * Console sign-in: the operator token is kept in an HttpOnly, SameSite=Strict cookie scoped to
 * /console (page scripts never see it), checked on every request exactly like a bearer token
 * (expiry, revocation, role). Writes need a CSRF token bound to the session (a keyed digest of
 * the cookie, so a forged page cannot know it) and a same-origin Origin header.
 */
import { ApiError } from '@modelfleet/edge-runtime';
import { type OperatorRole, ROLE_RANK, sha256Hex, timingSafeEqual, utf8 } from '@modelfleet/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { authenticateToken } from '../auth/operators.ts';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';

export const COOKIE = 'mf_console';
const SESSION_SECONDS = 12 * 3600;

export interface ConsoleEnv {
  Bindings: Env;
  Variables: { operator: Operator; token: string; csrf: string };
}

export const csrfFor = async (token: string) => (await sha256Hex(utf8(`modelfleet/console/csrf:${token}`))).slice(0, 40);
export const can = (operator: Operator, role: OperatorRole) => ROLE_RANK[operator.role] >= ROLE_RANK[role];

export function startSession(c: Context, token: string): void {
  setCookie(c, COOKIE, token, {
    httpOnly: true, sameSite: 'Strict', path: '/console', maxAge: SESSION_SECONDS,
    secure: new URL(c.req.url).protocol === 'https:',
  });
}

export const endSession = (c: Context) => deleteCookie(c, COOKIE, { path: '/console' });

/** Pages: a signed-in operator or a redirect to the sign-in form saying why. */
export const requireSession: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const token = getCookie(c, COOKIE);
  if (!token) return c.redirect('/console/login', 303);
  try {
    c.set('operator', await authenticateToken(c.env, token));
  } catch (e) {
    endSession(c);
    const code = e instanceof ApiError ? e.code : 'unauthorized';
    return c.redirect(`/console/login?error=${encodeURIComponent(code)}`, 303);
  }
  c.set('token', token);
  c.set('csrf', await csrfFor(token));
  await next();
};

/**
 * Writes: same-origin Origin (or Referer) and the session's CSRF token in the form field `_csrf`
 * or the `x-csrf-token` header. Refused with a coded error; nothing runs.
 */
export const requireCsrf: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const origin = c.req.header('origin') ?? (c.req.header('referer') ? new URL(c.req.header('referer')!).origin : null);
  if (origin !== new URL(c.req.url).origin) throw new ApiError('csrf_failed', 'cross-site request refused (Origin does not match)');
  let sent = c.req.header('x-csrf-token') ?? '';
  if (!sent && (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form = await c.req.parseBody();
    sent = typeof form._csrf === 'string' ? form._csrf : '';
  }
  if (!sent || !timingSafeEqual(utf8(sent), utf8(c.get('csrf')))) throw new ApiError('csrf_failed', 'the form is stale or forged; reload the page and try again');
  await next();
};
