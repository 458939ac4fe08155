/**
 * @module console/routes
 * The operator console at /console: server-rendered Hono JSX pages with two small script islands
 * (actions + live panels, charts). Every page reads, and every form writes, through the public
 * API as the session's operator (console/api.ts), so roles, validation and audit are the API's.
 * Pages send a strict CSP (no inline script or style), no-store caching and frame denial.
 */
import { ApiError } from '@modelfleet/server-shared';
import { Hono, type Context } from 'hono';
import { csrf as sameOrigin } from 'hono/csrf';
import { identify } from '../auth/operators.ts';
import { createSession, endSession } from '../auth/sessions.ts';
import { ASSETS } from './assets.gen.ts';
import { Page } from './layout.tsx';
import { registerActions } from './route-actions.tsx';
import { registerPages } from './route-pages.tsx';
import { LoginPage } from './pages/login.tsx';
import { type ConsoleEnv, clearSessionCookie, requireCsrf, requireSession, setSessionCookie } from './session.ts';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const consoleRoutes = new Hono<ConsoleEnv>();

consoleRoutes.use('*', async (c, next) => {
  await next();
  c.header('content-security-policy', CSP);
  c.header('x-frame-options', 'DENY');
  c.header('referrer-policy', 'same-origin');
  c.header('x-content-type-options', 'nosniff');
  if (!c.req.path.startsWith('/console/assets/')) c.header('cache-control', 'no-store');
});

consoleRoutes.get('/assets/:name', (c) => {
  const a = ASSETS[c.req.param('name')];
  if (!a) throw new ApiError('not_found', 'no such console asset');
  return c.body(a.text, 200, { 'content-type': a.type, 'cache-control': 'public, max-age=31536000, immutable' });
});

// --- sign in / out ---------------------------------------------------------------------------
consoleRoutes.get('/login', (c) => c.html(<LoginPage error={c.req.query('error')} />));
consoleRoutes.post('/login', sameOrigin(), async (c) => {
  const form = await c.req.parseBody();
  const token = typeof form.token === 'string' ? form.token.trim() : '';
  let identity;
  try {
    if (!token || token.length > 256) throw new ApiError('unauthorized', 'no token');
    identity = await identify(c.env, token);
  } catch (e) {
    return c.html(<LoginPage error={e instanceof ApiError ? e.code : 'unauthorized'} />, 401);
  }
  // The cookie gets a fresh session id, never the token (auth/sessions.ts).
  const session = await createSession(c.env, identity);
  setSessionCookie(c, session.id, session.expiresAt);
  return c.redirect('/console', 303);
});

// Everything below needs a session; writes also need the CSRF token.
consoleRoutes.use('*', async (c, next) =>
  c.req.path.startsWith('/console/assets/') ? next() : requireSession(c, next),
);
consoleRoutes.post('*', requireCsrf);

consoleRoutes.post('/logout', async (c) => {
  await endSession(c.env, c.get('session')); // server side: the old cookie value opens nothing
  clearSessionCookie(c);
  return c.redirect('/console/login?error=signed_out', 303);
});

registerPages(consoleRoutes);
registerActions(consoleRoutes);

/** API refusals on pages render as a page saying what went wrong (same status), never a stack. */
consoleRoutes.onError((e, c) => {
  const error = e instanceof ApiError ? e : new ApiError('internal', 'the console failed to render this page');
  if (!(e instanceof ApiError)) console.error('console', e);
  if (error.code === 'csrf_failed' && (c.req.header('accept') ?? '').includes('application/json'))
    return c.json({ error: { code: error.code, message: error.message } }, 403);
  const operator = (c as Context<ConsoleEnv>).get('operator');
  return c.html(
    <Page
      title="Error"
      {...(operator ? { operator, csrf: (c as Context<ConsoleEnv>).get('csrf') } : {})}
      flash={{ kind: 'error', text: `${error.code}: ${error.message}` }}
    >
      <h1>Something was refused</h1>
      <p>
        <a href="/console">Back to the models</a>
      </p>
    </Page>,
    error.status as 400,
  );
});
