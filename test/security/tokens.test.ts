// Token lifecycle (issue 15, "Token lifecycle"), against the real Worker in workerd. Before this
// change a token could not be ended: there was no revoke route, so a leaked token worked until
// its expiry (or forever). Each test below failed on that code and must keep failing an attacker.
import { sha256Hex, utf8 } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { consolePage, consolePost, postLogin, signIn } from './console-session.ts';

let worker: TestWorker;
beforeAll(async () => {
  worker = await startWorker();
});
afterAll(() => worker?.dispose());

async function mint(w: TestWorker, role: string, token?: string): Promise<{ id: string; token: string }> {
  const res = await w.api('/v1/tokens', {
    method: 'POST',
    json: { role, label: `${role}-test` },
    ...(token ? { token } : {}),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}
const revoke = (w: TestWorker, id: string, json: unknown = {}, token?: string) =>
  w.api(`/v1/tokens/${encodeURIComponent(id)}/revoke`, { method: 'POST', json, ...(token ? { token } : {}) });
const errorOf = async (res: Response) => ({
  status: res.status,
  code: ((await res.json()) as { error?: { code?: string } }).error?.code,
});
const tokenRow = (id: string) =>
  worker.db.prepare('SELECT revoked_at FROM tokens WHERE id = ?').bind(id).first<{ revoked_at: string | null }>();
const auditOf = async (id: string) =>
  (
    (await (await worker.api(`/v1/audit?subject=token/${id}&action=token.revoke`)).json()) as {
      records: { actor: string; reason: string | null; after: unknown }[];
    }
  ).records;

describe('revoking an operator token', () => {
  it('refuses the token on the API at once with a coded 401, and audits who revoked it and why', async () => {
    const t = await mint(worker, 'operator');
    expect((await worker.api('/v1/models', { token: t.token })).status).toBe(200);

    const res = await revoke(worker, t.id, { reason: 'leaked in a CI log' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; role: string; revokedAt: string; alreadyRevoked: boolean };
    expect(body).toMatchObject({ id: t.id, role: 'operator', alreadyRevoked: false });
    expect(Date.parse(body.revokedAt)).toBeGreaterThan(Date.now() - 60_000);

    expect(await errorOf(await worker.api('/v1/models', { token: t.token }))).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    expect(
      await errorOf(await worker.api('/v1/tokens', { method: 'POST', json: { role: 'admin' }, token: t.token })),
    ).toEqual({ status: 401, code: 'unauthorized' });
    expect(await auditOf(t.id)).toEqual([
      expect.objectContaining({
        actor: 'admin (bootstrap token)',
        reason: 'leaked in a CI log',
        after: { revokedAt: body.revokedAt },
      }),
    ]);
  });

  it('revoking twice changes nothing: the first revocation time, one audit record', async () => {
    const t = await mint(worker, 'viewer');
    const first = (await (await revoke(worker, t.id)).json()) as { revokedAt: string };
    const again = await revoke(worker, t.id, { reason: 'again' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ alreadyRevoked: true, revokedAt: first.revokedAt, sessionsEnded: 0 });
    expect((await tokenRow(t.id))?.revoked_at).toBe(first.revokedAt);
    expect(await auditOf(t.id)).toHaveLength(1);
  });

  it('an unknown id is a coded 404, and bad input a coded 400; nothing is revoked', async () => {
    const t = await mint(worker, 'publisher');
    expect(await errorOf(await revoke(worker, 'nosuchid'))).toEqual({ status: 404, code: 'not_found' });
    expect(await errorOf(await revoke(worker, 'x'.repeat(65)))).toEqual({ status: 400, code: 'bad_request' });
    expect(await errorOf(await revoke(worker, t.id, { reason: 'x', force: true }))).toEqual({
      status: 400,
      code: 'unknown_field',
    });
    expect(await errorOf(await revoke(worker, t.id, { reason: 42 }))).toEqual({ status: 400, code: 'bad_request' });
    expect(await errorOf(await revoke(worker, t.id, []))).toEqual({ status: 400, code: 'bad_request' });
    expect((await tokenRow(t.id))?.revoked_at).toBeNull();
    expect((await worker.api('/v1/models', { token: t.token })).status).toBe(200);
    expect(await auditOf(t.id)).toHaveLength(0);
  });

  it('a non-admin cannot revoke (coded 403), not even its own token; the target keeps working', async () => {
    const op = await mint(worker, 'operator');
    const victim = await mint(worker, 'viewer');
    for (const id of [victim.id, op.id]) {
      expect(await errorOf(await revoke(worker, id, {}, op.token))).toEqual({ status: 403, code: 'forbidden' });
    }
    expect((await tokenRow(victim.id))?.revoked_at).toBeNull();
    expect((await worker.api('/v1/models', { token: victim.token })).status).toBe(200);
  });

  it('is listed, and a revoked admin token cannot mint or revoke anything', async () => {
    const admin = await mint(worker, 'admin');
    const other = await mint(worker, 'viewer');
    await revoke(worker, admin.id);
    expect(await errorOf(await revoke(worker, other.id, {}, admin.token))).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    expect((await tokenRow(other.id))?.revoked_at).toBeNull();
    const { tokens } = (await (await worker.api('/v1/tokens')).json()) as {
      tokens: { id: string; revokedAt: string | null }[];
    };
    expect(tokens.find((x) => x.id === admin.id)?.revokedAt).not.toBeNull();
    expect(tokens.find((x) => x.id === other.id)?.revokedAt).toBeNull();
  });
});

describe('the API document', () => {
  it('describes the routes that end credentials, with their coded refusals', async () => {
    const doc = (await (await worker.api('/v1/openapi.json', { token: null })).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const path of ['/v1/tokens/{id}/revoke', '/v1/apps/{id}/keys/rotate', '/v1/apps/{id}/keys/{keyId}/revoke']) {
      expect(Object.keys(doc.paths[path]?.post?.responses ?? {}), path).toEqual(
        expect.arrayContaining(['400', '401', '403', '404']),
      );
    }
    expect(doc.paths['/v1/tokens/{id}/revoke']!.post!.responses).toHaveProperty('409');
    expect(doc.paths['/v1/apps/{id}/keys']?.get).toBeDefined();
  });
});

describe('console sessions', () => {
  it('the cookie holds a random session id, not the token; only its hash is stored, and it is no bearer', async () => {
    const t = await mint(worker, 'operator');
    const a = await signIn(worker, t.token);
    expect(a.setCookie).toMatch(/HttpOnly/i);
    expect(a.setCookie).toMatch(/SameSite=Strict/i);
    expect(a.value).not.toBe(t.token);
    expect(a.setCookie).not.toContain(t.token);
    expect(a.value.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url
    expect((await signIn(worker, t.token)).value).not.toBe(a.value); // each sign-in is its own session

    const rows = (await worker.db.prepare('SELECT * FROM console_sessions WHERE token_id = ?').bind(t.id).all())
      .results;
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(a.value);
    expect(rows.map((r) => r.id_hash)).toContain(await sha256Hex(utf8(a.value)));

    expect((await consolePage(worker, a.cookie)).status).toBe(200);
    expect(await errorOf(await worker.api('/v1/models', { token: a.value }))).toEqual({
      status: 401,
      code: 'unauthorized',
    });
  });

  it('signing out ends the session on the server: the old cookie value opens nothing', async () => {
    const t = await mint(worker, 'operator');
    const s = await signIn(worker, t.token);
    const page = await consolePage(worker, s.cookie);
    expect(page.status).toBe(200);
    const out = await consolePost(worker, s.cookie, '/console/logout', page.csrf!);
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/console/login?error=signed_out');

    // A copy of the cookie taken before sign-out (another tab, a stolen jar) is refused.
    for (const path of ['/console', '/console/audit']) {
      const again = await consolePage(worker, s.cookie, path);
      expect(again.status).toBe(303);
      expect(again.location).toBe('/console/login?error=session_ended');
    }
    expect(await errorOf(await worker.api('/v1/models', { token: s.value }))).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    // The token itself was not revoked by signing out: a fresh sign-in works.
    expect((await consolePage(worker, (await signIn(worker, t.token)).cookie)).status).toBe(200);
  });

  it('revoking a token ends its console sessions at once, and says how many', async () => {
    const t = await mint(worker, 'operator');
    const [a, b] = [await signIn(worker, t.token), await signIn(worker, t.token)];
    const bystander = await signIn(worker, (await mint(worker, 'viewer')).token);
    expect((await consolePage(worker, a.cookie)).status).toBe(200);

    expect(await (await revoke(worker, t.id)).json()).toMatchObject({ sessionsEnded: 2 });
    for (const s of [a, b]) {
      const page = await consolePage(worker, s.cookie);
      expect(page.status).toBe(303);
      expect(page.location).toMatch(/^\/console\/login\?error=/);
    }
    expect((await consolePage(worker, bystander.cookie)).status).toBe(200);
    // Signing in again with the revoked token is refused.
    const login = await postLogin(worker, t.token);
    expect(login.status).toBe(401);
    expect(login.headers.get('set-cookie') ?? '').not.toContain('mf_console=');
  });

  it("the CSRF token is bound to the session: one session's token does not pass in another", async () => {
    const t = await mint(worker, 'operator');
    const [a, b] = [await signIn(worker, t.token), await signIn(worker, t.token)];
    const [pa, pb] = [await consolePage(worker, a.cookie), await consolePage(worker, b.cookie)];
    expect(pa.csrf).toBeTruthy();
    expect(pa.csrf).not.toBe(pb.csrf);
    const crossed = await consolePost(worker, b.cookie, '/console/logout', pa.csrf!);
    expect(crossed.status).toBe(403);
    expect((await consolePost(worker, b.cookie, '/console/logout', 'f'.repeat(40))).status).toBe(403);
    expect((await consolePage(worker, b.cookie)).status).toBe(200); // b was not signed out
  });
});

describe('the last admin token', () => {
  // Without a bootstrap ADMIN_TOKEN, the last working admin token is all that can mint tokens.
  let bare: TestWorker;
  let first: { id: string; token: string };
  beforeAll(async () => {
    bare = await startWorker({ vars: { ADMIN_TOKEN: '' }, installRoot: false });
    first = { id: 'root0001', token: 'mft_first_admin_for_lockout_test' };
    await bare.db
      .prepare("INSERT INTO tokens (id, hash, role, label, created_at) VALUES (?, ?, 'admin', 'first', ?)")
      .bind(first.id, await sha256Hex(utf8(first.token)), new Date().toISOString())
      .run();
  });
  afterAll(() => bare?.dispose());

  it('cannot be revoked (coded 409 last_admin) while it is the only one; once another exists it can', async () => {
    const refused = await revoke(bare, first.id, {}, first.token);
    expect(await errorOf(refused)).toEqual({ status: 409, code: 'last_admin' });
    expect((await bare.api('/v1/tokens', { token: first.token })).status).toBe(200);

    // An expired admin token does not count as a way back in.
    const stale = await mint(bare, 'admin', first.token);
    await bare.db
      .prepare("UPDATE tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE id = ?")
      .bind(stale.id)
      .run();
    expect(await errorOf(await revoke(bare, first.id, {}, first.token))).toEqual({ status: 409, code: 'last_admin' });
    expect((await revoke(bare, stale.id, {}, first.token)).status).toBe(200); // an expired admin token itself may go

    const second = await mint(bare, 'admin', first.token);
    expect((await revoke(bare, first.id, {}, second.token)).status).toBe(200);
    expect(await errorOf(await bare.api('/v1/tokens', { token: first.token }))).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    expect(await errorOf(await revoke(bare, second.id, {}, second.token))).toEqual({ status: 409, code: 'last_admin' });
    expect((await bare.api('/v1/tokens', { token: second.token })).status).toBe(200);
  });
});
