/**
 * @module console/route-helpers
 * What every console route shares: the page props (operator, CSRF token, one-shot flash), running
 * an API write from a form (JSON for the island, a 303 with a flash for a plain form), form fields.
 */
import { ApiError } from '@modelfleet/server-shared';
import { type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { type ConsoleEnv } from './session.ts';

export const FLASH = 'mf_flash';

/** Page props every page shares: who is signed in, the CSRF token, and a one-shot flash. */
export function common(c: Context<ConsoleEnv>) {
  const raw = getCookie(c, FLASH);
  let flash: { kind: 'ok' | 'error'; text: string } | null = null;
  if (raw) {
    deleteCookie(c, FLASH, { path: '/console' });
    try {
      const f = JSON.parse(raw) as { kind?: string; text?: string };
      if (typeof f.text === 'string') flash = { kind: f.kind === 'error' ? 'error' : 'ok', text: f.text.slice(0, 500) };
    } catch {
      /* a mangled flash is dropped */
    }
  }
  return { operator: c.get('operator'), csrf: c.get('csrf'), flash };
}

/**
 * Runs an API write from a form. The island (Accept: JSON) gets `{ ok, message, location? }` or
 * the coded error; a plain form gets a 303 to `back` (or the page `run` names, e.g. a new
 * rollout's) with a one-shot flash.
 */
export async function attempt(c: Context<ConsoleEnv>, back: string, text: string, run: () => Promise<unknown>) {
  let outcome: { next: string | null } | { error: ApiError };
  try {
    const next = await run();
    outcome = { next: typeof next === 'string' ? next : null };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    outcome = { error: e };
  }
  if ((c.req.header('accept') ?? '').includes('application/json')) {
    return 'error' in outcome
      ? c.json({ error: { code: outcome.error.code, message: outcome.error.message } }, outcome.error.status as 400)
      : c.json({ ok: true, message: text, ...(outcome.next ? { location: outcome.next } : {}) });
  }
  const flash =
    'error' in outcome
      ? { kind: 'error', text: `${outcome.error.code}: ${outcome.error.message}` }
      : { kind: 'ok', text };
  setCookie(c, FLASH, JSON.stringify(flash), { httpOnly: true, sameSite: 'Strict', path: '/console', maxAge: 60 });
  return c.redirect('error' in outcome ? back : (outcome.next ?? back), 303);
}

export const field = (form: Record<string, unknown>, name: string) =>
  typeof form[name] === 'string' ? (form[name] as string).trim() : '';
