/**
 * @module console-session (security test helpers)
 * A console sign-in and page loads over plain HTTP, as a browser without script would make them:
 * the form post, the Set-Cookie it answers with, and pages fetched with that cookie.
 */
import { expect } from 'vitest';
import type { TestWorker } from '../harness/worker.ts';

export const ORIGIN = 'http://127.0.0.1'; // the harness's dispatch origin

export interface SignedIn {
  /** The cookie's value, exactly as the Set-Cookie header carried it. */
  value: string;
  setCookie: string;
  cookie: string;
}

/** The sign-in form posted with `token`. */
export const postLogin = (worker: TestWorker, token: string) =>
  worker.api('/console/login', {
    method: 'POST',
    token: null,
    redirect: 'manual',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${encodeURIComponent(token)}`,
  });

export async function signIn(worker: TestWorker, token: string): Promise<SignedIn> {
  const res = await postLogin(worker, token);
  expect(res.status).toBe(303);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const value = decodeURIComponent(setCookie.match(/mf_console=([^;]*)/)?.[1] ?? '');
  expect(value).not.toBe('');
  return { value, setCookie, cookie: `mf_console=${encodeURIComponent(value)}` };
}

/** A console page with the cookie: its status, where it redirects, and the page's CSRF token. */
export async function consolePage(worker: TestWorker, cookie: string, path = '/console') {
  const res = await worker.api(path, { token: null, redirect: 'manual', headers: { cookie } });
  const html = await res.text();
  return {
    status: res.status,
    location: res.headers.get('location'),
    csrf: html.match(/<meta name="csrf-token" content="([^"]+)"/)?.[1] ?? null,
    html,
  };
}

/** A console form post with the cookie and a CSRF token, from the console's own origin. */
export function consolePost(
  worker: TestWorker,
  cookie: string,
  path: string,
  csrf: string,
  form: Record<string, string> = {},
) {
  return worker.api(path, {
    method: 'POST',
    token: null,
    redirect: 'manual',
    headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, ...form }).toString(),
  });
}
