/**
 * @module demo/plane
 * The control plane as the demo talks to it: its endpoint and admin token over HTTP, the pinned
 * trust root, a way to publish a model directory (the CLI, `modelfleet publish`), and the Cron
 * Trigger — on `wrangler dev --test-scheduled` a GET of /__scheduled, in the test harness
 * Miniflare's scheduled dispatch; either way the Worker's own scheduled handler runs, as
 * Cloudflare runs it on the deployed Worker's schedule.
 */
import type { Envelope } from '@modelfleet/protocol';

export interface Plane {
  url: string;
  token: string;
  root: Envelope;
  /** `modelfleet publish <dir> <args…>` against this plane. */
  publish(dir: string, args: string[]): Promise<void>;
  /** Runs the Worker's scheduled handler (closes the windows that have ended). */
  trigger(): Promise<void>;
}

export class ApiFailure extends Error {}

/** JSON over HTTP with the admin token (or `token`); a non-2xx answer throws with the coded error. */
export async function api<T = any>(
  plane: Pick<Plane, 'url' | 'token'>,
  method: string,
  path: string,
  body?: unknown,
  token = plane.token,
): Promise<T> {
  const res = await fetch(`${plane.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      connection: 'close',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new ApiFailure(`${method} ${path}: ${res.status} ${text.slice(0, 400)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** The plane of a local `wrangler dev --test-scheduled` (what `npm run demo` starts). */
export function wranglerPlane(o: { url: string; token: string; root: Envelope; publish: Plane['publish'] }): Plane {
  return {
    ...o,
    async trigger() {
      const res = await fetch(`${o.url}/__scheduled?cron=${encodeURIComponent('15 0 * * *')}`, {
        headers: { connection: 'close' },
      });
      if (!res.ok) throw new ApiFailure(`/__scheduled: ${res.status} ${await res.text()}`);
    },
  };
}
