// App key rotation (issue 15, "Token lifecycle"), against the real Worker in workerd. Before this
// change an app's device key could not be replaced or ended: a leaked or abused key worked for as
// long as the app existed, and it was stored in plain text. Each test below failed on that code.
import { sha256Hex, utf8 } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { pollUntil } from '../harness/poll.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
beforeAll(async () => {
  worker = await startWorker();
  await createModel(worker, 'fraud');
  expect((await publish(worker, 'fraud', await buildLayersModel({ seed: 3, inputs: 2 }))).res.status).toBe(201);
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
});
afterAll(() => worker?.dispose());

interface KeyInfo {
  id: string;
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}
type Outcome = { status: number; code: string | null };

async function newApp(w: TestWorker, name = 'web'): Promise<{ id: string; appKey: string }> {
  const res = await w.api('/v1/apps', { method: 'POST', json: { name, models: ['*'] } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; appKey: string };
}
const outcome = async (res: Response): Promise<Outcome> => ({
  status: res.status,
  code: res.ok ? null : ((await res.json()) as { error: { code: string } }).error.code,
});
/** A device asking for a ticket with `key`. */
const ticket = (w: TestWorker, key: string, model = 'fraud') =>
  w
    .api(`/v1/edge/tickets/${model}?device=phone-1`, { token: null, headers: { 'x-modelfleet-app-key': key } })
    .then(outcome);
const rotate = (w: TestWorker, appId: string, json: unknown, token?: string) =>
  w.api(`/v1/apps/${encodeURIComponent(appId)}/keys/rotate`, { method: 'POST', json, ...(token ? { token } : {}) });
const revokeKey = (w: TestWorker, appId: string, keyId: string, token?: string) =>
  w.api(`/v1/apps/${encodeURIComponent(appId)}/keys/${encodeURIComponent(keyId)}/revoke`, {
    method: 'POST',
    json: {},
    ...(token ? { token } : {}),
  });
const keysOf = async (w: TestWorker, appId: string) =>
  ((await (await w.api(`/v1/apps/${appId}/keys`)).json()) as { keys: KeyInfo[] }).keys;
const audits = async (appId: string) =>
  (
    (await (await worker.api(`/v1/audit?subject=app/${appId}&action=app.key`)).json()) as {
      records: { action: string }[];
    }
  ).records;
const OK: Outcome = { status: 200, code: null };
const REFUSED: Outcome = { status: 401, code: 'app_key_invalid' };

describe('rotating an app key', () => {
  it('keeps the old key working for the grace period, then refuses it; the new key gets tickets', async () => {
    const app = await newApp(worker);
    expect(await ticket(worker, app.appKey)).toEqual(OK);

    const started = Date.now();
    const res = await rotate(worker, app.id, { graceSeconds: 2, reason: 'key scraped from the web bundle' });
    expect(res.status).toBe(201);
    const r = (await res.json()) as { appKey: string; keyId: string; keys: KeyInfo[] };
    expect(r.appKey).toMatch(/^mfa_/);
    expect(r.appKey).not.toBe(app.appKey);
    expect(r.keys).toHaveLength(2);
    const old = r.keys.find((k) => k.id !== r.keyId)!;
    expect(old.hint).toBe(app.appKey.slice(-4));
    expect(Date.parse(old.expiresAt!) - Date.parse(r.keys.find((k) => k.id === r.keyId)!.createdAt)).toBe(2000);

    expect(await ticket(worker, app.appKey)).toEqual(OK); // during the grace period
    expect(await ticket(worker, r.appKey)).toEqual(OK);
    await pollUntil(
      () => ticket(worker, app.appKey),
      (o) => o.status === 401,
      { timeoutMs: 15_000, everyMs: 100, what: 'the old key to be refused' },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(await ticket(worker, app.appKey)).toEqual(REFUSED);
    expect(await ticket(worker, r.appKey)).toEqual(OK);
    expect((await audits(app.id)).map((a) => a.action)).toEqual(['app.key.rotate']);
  });

  it('graceSeconds 0 ends the old key now; rotating again never revives an ended key', async () => {
    const app = await newApp(worker);
    const first = (await (await rotate(worker, app.id, { graceSeconds: 0 })).json()) as { appKey: string };
    expect(await ticket(worker, app.appKey)).toEqual(REFUSED);
    const second = (await (await rotate(worker, app.id, { graceSeconds: 3600 })).json()) as {
      appKey: string;
      keys: KeyInfo[];
    };
    expect(await ticket(worker, app.appKey)).toEqual(REFUSED);
    expect(await ticket(worker, first.appKey)).toEqual(OK); // in its grace
    expect(await ticket(worker, second.appKey)).toEqual(OK);
    expect(second.keys.filter((k) => k.expiresAt === null)).toHaveLength(1);
  });

  it('the default grace is 7 days', async () => {
    const app = await newApp(worker);
    const r = (await (await rotate(worker, app.id, {})).json()) as { keyId: string; keys: KeyInfo[] };
    const old = r.keys.find((k) => k.id !== r.keyId)!;
    const made = Date.parse(r.keys.find((k) => k.id === r.keyId)!.createdAt);
    expect(Date.parse(old.expiresAt!) - made).toBe(7 * 86400 * 1000);
    expect(await ticket(worker, app.appKey)).toEqual(OK);
  });
});

describe('revoking an app key', () => {
  it("refuses it at once, leaves the app's other keys working, and a second revocation changes nothing", async () => {
    const app = await newApp(worker);
    const r = (await (await rotate(worker, app.id, { graceSeconds: 86400 })).json()) as {
      appKey: string;
      keyId: string;
      keys: KeyInfo[];
    };
    const oldId = r.keys.find((k) => k.id !== r.keyId)!.id;
    const res = await revokeKey(worker, app.id, oldId);
    expect(res.status).toBe(200);
    const revoked = (await res.json()) as KeyInfo & { alreadyRevoked: boolean };
    expect(revoked).toMatchObject({ id: oldId, alreadyRevoked: false });
    expect(revoked.expiresAt).toBe(revoked.revokedAt);
    expect(await ticket(worker, app.appKey)).toEqual(REFUSED);
    expect(await ticket(worker, r.appKey)).toEqual(OK);

    expect(await (await revokeKey(worker, app.id, oldId)).json()).toMatchObject({
      alreadyRevoked: true,
      revokedAt: revoked.revokedAt,
    });
    expect((await audits(app.id)).map((a) => a.action)).toEqual(['app.key.revoke', 'app.key.rotate']);
  });
});

describe('refusals change nothing', () => {
  it('bad input and unknown ids are coded errors; the keys, the tickets and the audit log stay as they were', async () => {
    const app = await newApp(worker);
    const before = await keysOf(worker, app.id);
    const cases: [Promise<Response>, Outcome][] = [
      [rotate(worker, app.id, { graceSeconds: -1 }), { status: 400, code: 'bad_request' }],
      [rotate(worker, app.id, { graceSeconds: '60' }), { status: 400, code: 'bad_request' }],
      [rotate(worker, app.id, { graceSeconds: 1.5 }), { status: 400, code: 'bad_request' }],
      [rotate(worker, app.id, { graceSeconds: 10 ** 9 }), { status: 400, code: 'bad_request' }],
      [rotate(worker, app.id, { graceSeconds: 60, keep: true }), { status: 400, code: 'unknown_field' }],
      [rotate(worker, 'nosuchapp', { graceSeconds: 60 }), { status: 404, code: 'not_found' }],
      [revokeKey(worker, app.id, 'knosuchkey'), { status: 404, code: 'not_found' }],
      [revokeKey(worker, 'nosuchapp', before[0]!.id), { status: 404, code: 'not_found' }],
      [worker.api('/v1/apps/nosuchapp/keys'), { status: 404, code: 'not_found' }],
    ];
    for (const [res, want] of cases) expect(await outcome(await res)).toEqual(want);
    // Another app's key id does not reach across apps.
    const other = await newApp(worker, 'other');
    expect(await outcome(await revokeKey(worker, app.id, (await keysOf(worker, other.id))[0]!.id))).toEqual({
      status: 404,
      code: 'not_found',
    });

    expect(await keysOf(worker, app.id)).toEqual(before);
    expect(await ticket(worker, app.appKey)).toEqual(OK);
    expect(await ticket(worker, other.appKey)).toEqual(OK);
    expect(await audits(app.id)).toEqual([]);
  });

  it('only an admin rotates, revokes or lists app keys (coded 403)', async () => {
    const app = await newApp(worker);
    const keyId = (await keysOf(worker, app.id))[0]!.id;
    for (const role of ['viewer', 'operator']) {
      const { token } = (await (await worker.api('/v1/tokens', { method: 'POST', json: { role } })).json()) as {
        token: string;
      };
      expect(await outcome(await rotate(worker, app.id, { graceSeconds: 0 }, token))).toEqual({
        status: 403,
        code: 'forbidden',
      });
      expect(await outcome(await revokeKey(worker, app.id, keyId, token))).toEqual({ status: 403, code: 'forbidden' });
      expect(await outcome(await worker.api(`/v1/apps/${app.id}/keys`, { token }))).toEqual({
        status: 403,
        code: 'forbidden',
      });
    }
    expect(await keysOf(worker, app.id)).toHaveLength(1);
    expect(await ticket(worker, app.appKey)).toEqual(OK);
  });
});

describe('storage', () => {
  it('keeps only a hash of each app key', async () => {
    const app = await newApp(worker, 'stored');
    const rotated = (await (await rotate(worker, app.id, { graceSeconds: 60 })).json()) as { appKey: string };
    const dump = JSON.stringify(
      await Promise.all(
        ['apps', 'app_keys', 'audit'].map(async (t) => (await worker.db.prepare(`SELECT * FROM ${t}`).all()).results),
      ),
    );
    for (const key of [app.appKey, rotated.appKey]) {
      expect(dump).not.toContain(key);
      expect(dump).toContain(await sha256Hex(utf8(key)));
    }
  });
});

describe('with the edge cache on (EDGE_CACHE_TTL_MS 5 s)', () => {
  let cached: TestWorker;
  beforeAll(async () => {
    cached = await startWorker({ vars: { EDGE_CACHE_TTL_MS: '5000' } });
  });
  afterAll(() => cached?.dispose());
  // Without a model the ticket route still checks the key first: a live key reaches `unknown_model`.
  const probe = (key: string) => ticket(cached, key, 'nomodel');
  const LIVE: Outcome = { status: 404, code: 'unknown_model' };

  it('a revoked key may still open a warm isolate, but for no longer than the cache TTL', async () => {
    const app = await newApp(cached);
    expect(await probe(app.appKey)).toEqual(LIVE); // the isolate now holds the key
    const keyId = (await keysOf(cached, app.id))[0]!.id;
    const revokedAt = Date.now();
    expect((await revokeKey(cached, app.id, keyId)).status).toBe(200);
    await pollUntil(
      () => probe(app.appKey),
      (o) => o.status === 401,
      { timeoutMs: 15_000, everyMs: 100, what: 'the revoked key to be refused' },
    );
    expect(Date.now() - revokedAt).toBeLessThan(5000 + 2000); // the TTL, plus slack for a loaded machine
    expect(await probe(app.appKey)).toEqual(REFUSED);
  });

  it("a rotation's grace ends on time even while the old key is cached", async () => {
    const app = await newApp(cached);
    const rotatedAt = Date.now();
    expect((await rotate(cached, app.id, { graceSeconds: 2 })).status).toBe(201);
    expect(await probe(app.appKey)).toEqual(LIVE); // cached now, for 5 s, with its end 2 s after the rotation
    await pollUntil(
      () => probe(app.appKey),
      (o) => o.status === 401,
      { timeoutMs: 15_000, everyMs: 100, what: 'the old key to be refused' },
    );
    const after = Date.now() - rotatedAt;
    expect(after).toBeGreaterThanOrEqual(1900);
    expect(after).toBeLessThan(4000); // before the cached entry expires: the end is checked on every request
  });
});

describe('keys minted before migration 0008', () => {
  let legacy: TestWorker;
  const oldKey = 'mfa_legacy_key_made_before_0008_xyz9';
  beforeAll(async () => {
    legacy = await startWorker({
      installRoot: false,
      before: {
        migration: '0008',
        seed: async (db) => {
          await db
            .prepare(
              "INSERT INTO apps (id, app_key, name, models, created_at) VALUES ('old00001', ?, 'legacy', '[\"*\"]', '2026-01-01T00:00:00.000Z')",
            )
            .bind(oldKey)
            .run();
        },
      },
    });
  });
  afterAll(() => legacy?.dispose());

  it('keep working after the migration, and can be rotated away', async () => {
    const probe = (key: string) => ticket(legacy, key, 'nomodel');
    expect(await probe(oldKey)).toEqual({ status: 404, code: 'unknown_model' });
    expect(await keysOf(legacy, 'old00001')).toEqual([expect.objectContaining({ hint: 'xyz9', expiresAt: null })]);
    const r = (await (await rotate(legacy, 'old00001', { graceSeconds: 0 })).json()) as { appKey: string };
    expect(await probe(oldKey)).toEqual(REFUSED);
    expect(await probe(r.appKey)).toEqual({ status: 404, code: 'unknown_model' });
  });
});
