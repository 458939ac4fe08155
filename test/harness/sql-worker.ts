/**
 * @module sql-worker (test harness)
 * The tests' own view of the Worker's D1 database, read and written without Miniflare's binding
 * proxy. Why: the proxy makes `prepare`/`bind` synchronous calls over a worker thread, and on a
 * loaded CI machine its channel lost step (`message?.id === id` asserted in fetch-sync.ts); every
 * later call of the file then failed — twice in CI, in different suites. Here a second, test-only
 * Worker in the same Miniflare instance binds the same database and runs each statement for the
 * harness over an ordinary (asynchronous) dispatchFetch. Never part of the deployed bundle.
 *
 * `sqlDatabase(fetch)` gives the subset of D1Database the tests use: prepare → bind → first / all /
 * run / raw, and batch. Values travel as JSON, so BLOB columns are not supported (no test needs them).
 */
import type { D1Database } from '@cloudflare/workers-types';

/** The host the test-only SQL Worker answers on (its Miniflare route). */
export const SQL_HOST = 'sql.harness.test';

/** The SQL Worker: one statement (or a batch) per request; D1's own errors come back as 500 with their message. */
export const SQL_WORKER_SCRIPT = `
const statement = (db, s) => db.prepare(s.sql).bind(...s.params);
export default {
  async fetch(request, env) {
    const q = await request.json();
    try {
      if (q.batch) return Response.json(await env.DB.batch(q.batch.map((s) => statement(env.DB, s))));
      const st = statement(env.DB, q);
      const out = q.method === 'first' ? await st.first(q.column ?? undefined)
        : q.method === 'raw' ? await st.raw()
        : q.method === 'run' ? await st.run()
        : await st.all();
      return Response.json({ out: out ?? null });
    } catch (e) {
      return new Response(String(e && e.message || e), { status: 500 });
    }
  },
};
`;

type Send = (body: unknown) => Promise<Response>;
interface Statement {
  sql: string;
  params: unknown[];
}

async function call<T>(send: Send, body: unknown): Promise<T> {
  const res = await send(body);
  if (!res.ok) throw new Error(await res.text());
  return (await res.json()) as T;
}

function statement(send: Send, s: Statement) {
  const run = async <T>(method: string, column?: string) =>
    (await call<{ out: T }>(send, { ...s, method, column: column ?? null })).out;
  return {
    __statement: s,
    bind: (...params: unknown[]) => statement(send, { sql: s.sql, params }),
    first: <T>(column?: string) => run<T | null>('first', column),
    all: <T>() => run<{ results: T[]; success: boolean; meta: unknown }>('all'),
    run: () => run<{ success: boolean; meta: unknown }>('run'),
    raw: <T>() => run<T[]>('raw'),
  };
}

/** D1 over the SQL Worker; `send` posts one JSON request to it. */
export function sqlDatabase(send: Send): D1Database {
  const db = {
    prepare: (sql: string) => statement(send, { sql, params: [] }),
    batch: (statements: { __statement: Statement }[]) =>
      call<unknown[]>(send, { batch: statements.map((s) => s.__statement) }),
  };
  return db as unknown as D1Database;
}
