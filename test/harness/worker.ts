/**
 * @module worker (test harness)
 * Starts the bundled Worker in workerd through Miniflare with real D1, R2 and KV (in memory,
 * fresh per instance), migrations applied, a real key set and root v1 installed, and a
 * bootstrap admin token. Tests talk to it over HTTP like any client, and reach the bindings
 * directly to assert state or to tamper with stored bytes.
 */
import type { D1Database, R2Bucket } from '@cloudflare/workers-types';
import { createTestTrust } from '@modelfleet/protocol/testing';
import type { Envelope, KeySet } from '@modelfleet/protocol';
import { Miniflare, type MiniflareOptions } from 'miniflare';
import { BUNDLE_DIR, BUNDLE_ENTRY } from './bundle.ts';
import { applyMigrations } from './migrations.ts';
import { PROOF_HEADER, uploadProofs } from './proofs.ts';
import { SQL_HOST, SQL_WORKER_SCRIPT, sqlDatabase } from './sql-worker.ts';

/** The app Worker's name in the harness's Miniflare (beside the test-only SQL Worker). */
export const WORKER_NAME = 'modelfleet';

export interface TestWorker {
  url: string;
  adminToken: string;
  /** The TICKET_KEY secret (benchmarks mint the upload proofs a device would hold: proofs.ts). */
  ticketSecret: string;
  keys: KeySet;
  rootEnvelope: Envelope;
  db: D1Database;
  r2: R2Bucket;
  mf: Miniflare;
  /**
   * Restarts workerd: a fresh isolate on the same D1/R2/KV/DO state, with the options it started
   * with and `vars` on top (a fault test arms FAULT_POINTS this way and disarms them by omitting it).
   */
  restart(vars?: Record<string, string>): Promise<void>;
  /** Fires the Worker's scheduled handler as the Cron Trigger `cron` would at `time`. */
  trigger(cron: string, time: Date): Promise<void>;
  /**
   * fetch relative to the worker, with the admin token unless `token` is given (null = none). A
   * device upload without an x-modelfleet-proof header gets the proof its ticket would carry
   * (proofs.ts) unless `proof` is null.
   */
  api(path: string, init?: RequestInit & { token?: string | null; json?: unknown; proof?: null }): Promise<Response>;
  dispose(): Promise<void>;
}

export interface StartOptions {
  vars?: Record<string, string>;
  /** Install root v1 through the API (default true). */
  installRoot?: boolean;
  /** Listen on a real port (benchmarks and the CLI need one). */
  http?: boolean;
  /** Requests per device per minute at the edge; unset means no limiter binding. */
  deviceRateLimit?: number;
  /** Open workerd's V8 inspector on a free port (for `evaluateInWorker`, inspector.ts). */
  inspector?: boolean;
  /**
   * Data from before a migration: the files before `migration` are applied, `seed` writes rows in
   * that older schema, then the rest are applied (a migration tested on the data it must carry).
   */
  before?: { migration: string; seed: (db: D1Database) => Promise<void> };
}

export async function startWorker(options: StartOptions = {}): Promise<TestWorker> {
  const trust = await createTestTrust();
  const ticketSecret = options.vars?.TICKET_KEY ?? JSON.stringify(trust.keys.ticket[0]);
  const adminToken = options.vars?.ADMIN_TOKEN ?? 'mft_test_admin_' + Math.random().toString(36).slice(2);
  const app = {
    name: WORKER_NAME,
    modules: [{ type: 'ESModule' as const, path: BUNDLE_ENTRY }],
    modulesRoot: BUNDLE_DIR,
    compatibilityDate: '2026-04-01',
    compatibilityFlags: ['nodejs_compat'],
    d1Databases: { DB: 'modelfleet' },
    r2Buckets: ['ARTIFACTS'],
    kvNamespaces: ['CACHE'],
    durableObjects: {
      AGGREGATES: { className: 'SketchAggregator', useSQLite: true },
      ROLLOUTS: { className: 'RolloutCoordinator', useSQLite: true },
    },
    queueProducers: { WEBHOOKS: 'modelfleet-webhooks' },
    queueConsumers: { 'modelfleet-webhooks': { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 10 } },
    ...(options.deviceRateLimit
      ? { ratelimits: { DEVICE_LIMITER: { simple: { limit: options.deviceRateLimit, period: 60 } } } }
      : {}),
    bindings: {
      EDGE_CACHE_TTL_MS: '0',
      TICKET_TTL_SECONDS: '86400',
      MAX_MODEL_BYTES: String(64 * 2 ** 20),
      RELEASE_KEY: JSON.stringify(trust.keys.release[0]),
      TICKET_KEY: ticketSecret,
      ADMIN_TOKEN: adminToken,
      // Every simulated device shares 127.0.0.1: no per-network cap, one network enough to decide.
      // test/security/ and the simulations set these to production values with simulated addresses.
      NETWORK_DEVICE_CAP: '0',
      ROLLOUT_MIN_NETWORKS: '1',
      DRIFT_MIN_NETWORKS: '1',
      WEBHOOK_RETRY_BASE_SECONDS: '0',
      // Tests deliver webhooks to a receiver on loopback (webhook-receiver.ts), refused otherwise.
      WEBHOOK_ALLOW_HOSTS: '127.0.0.1,localhost',
      ...options.vars,
    } as Record<string, string>,
  };
  // The harness's own way into D1 (sql-worker.ts): a second Worker on the same database.
  const sql = {
    name: 'sql',
    modules: true,
    script: SQL_WORKER_SCRIPT,
    compatibilityDate: '2026-04-01',
    d1Databases: { DB: 'modelfleet' },
    routes: [`${SQL_HOST}/*`],
  };
  const optionsWith = (bindings: Record<string, string>): MiniflareOptions => ({
    cf: false,
    // Lets tests fire Cron Triggers at an injected time (/cdn-cgi/handler/scheduled).
    unsafeTriggerHandlers: true,
    ...(options.http ? { host: '127.0.0.1', port: 0 } : {}),
    ...(options.inspector ? { inspectorPort: 0 } : {}),
    workers: [{ ...app, bindings }, sql],
  });
  const mfOptions = optionsWith(app.bindings);
  const mf = new Miniflare(mfOptions);
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const db = sqlDatabase(
    (body) =>
      mf.dispatchFetch(`http://${SQL_HOST}/`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }) as unknown as Promise<Response>,
  );
  const r2 = (await mf.getR2Bucket('ARTIFACTS', 'modelfleet')) as unknown as R2Bucket;
  if (options.before) {
    const { migration, seed } = options.before;
    await applyMigrations(db, (f) => f < migration);
    await seed(db);
    await applyMigrations(db, (f) => f >= migration);
  } else {
    await applyMigrations(db);
  }

  const dispatchAs = (path: string, token: string) =>
    mf.dispatchFetch(`http://127.0.0.1${path}`, {
      headers: { authorization: `Bearer ${token}` },
    }) as unknown as Promise<Response>;
  const proofForUpload = uploadProofs(db, ticketSecret, (path) => dispatchAs(path, adminToken));
  const api: TestWorker['api'] = async (path, init = {}) => {
    const { token, json, proof, ...rest } = init;
    const headers = new Headers(rest.headers as HeadersInit | undefined);
    if (proof !== null && rest.method === 'POST' && !headers.has(PROOF_HEADER)) {
      const minted = await proofForUpload(path, headers);
      if (minted) headers.set(PROOF_HEADER, minted);
    }
    const bearer = token === undefined ? adminToken : token;
    if (bearer !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${bearer}`);
    let body = rest.body;
    if (json !== undefined) {
      body = JSON.stringify(json);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return (await mf.dispatchFetch(`http://127.0.0.1${path}`, {
      ...rest,
      headers,
      body,
    } as never)) as unknown as Response;
  };

  if (options.installRoot !== false) {
    const res = await api('/v1/keys/root', { method: 'PUT', json: trust.rootEnvelope });
    if (res.status !== 200) throw new Error(`installing root v1 failed: ${res.status} ${await res.text()}`);
  }
  const trigger = async (cron: string, time: Date) => {
    const res = (await mf.dispatchFetch(
      `http://127.0.0.1/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(cron)}&time=${time.getTime()}`,
    )) as unknown as Response;
    if (!res.ok) throw new Error(`scheduled ${cron} failed: ${res.status} ${await res.text()}`);
  };
  // In-memory storage outlives setOptions (Miniflare keeps it for the instance's lifetime).
  const worker: TestWorker = {
    url,
    adminToken,
    ticketSecret,
    keys: trust.keys,
    rootEnvelope: trust.rootEnvelope,
    db,
    r2,
    mf,
    api,
    restart,
    trigger,
    dispose: () => mf.dispose(),
  };
  async function restart(vars?: Record<string, string>) {
    await mf.setOptions(vars ? optionsWith({ ...app.bindings, ...vars }) : mfOptions);
    // Binding stubs die with the runtime they came from; the SQL Worker's D1 is reached by dispatch.
    worker.r2 = (await mf.getR2Bucket('ARTIFACTS', 'modelfleet')) as unknown as R2Bucket;
  }
  return worker;
}
