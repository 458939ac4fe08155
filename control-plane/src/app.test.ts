// Every route the Worker serves under /v1 (operator API and device routes) is in /v1/openapi.json,
// with its method: the app's own route table is walked, so a route added without documentation
// (or an edge route left out of routes/edge-docs.ts) fails here.
import { describe, expect, it, vi } from 'vitest';

// The Durable Object base class exists only in workerd; routing needs none of it.
vi.mock('cloudflare:workers', () => ({ DurableObject: class {} }));

const { buildApp } = await import('./app.ts');

/** Hono's `/models/:model` as OpenAPI's `/models/{model}`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');

/** Not part of the API: the console's HTML pages and the document itself. */
const UNDOCUMENTED = [/^\/console(\/|$)/, /^\/v1\/openapi\.json$/];

describe('the OpenAPI document', () => {
  it('documents every route the Worker registers, operator and edge, with its method', async () => {
    const app = buildApp();
    const doc = (await (await app.request('/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, object>>;
    };
    const routes = app.routes
      .filter((r) => r.method !== 'ALL' && r.method !== 'OPTIONS') // middleware (auth, CORS) and preflights
      .map((r) => ({ method: r.method.toLowerCase(), path: openApiPath(r.path) }))
      .filter((r) => !UNDOCUMENTED.some((re) => re.test(r.path)));
    expect(routes.filter((r) => r.path.startsWith('/v1/edge/')).length).toBe(8);
    const missing = routes.filter((r) => !doc.paths[r.path]?.[r.method]).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });
});
