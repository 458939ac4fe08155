// Concurrent writers (issue 15, "crash-safe releases and commits"), against the real Worker in
// workerd. Before this change:
//  - concurrent commits of one upload each signed and stored a manifest (the losers' stayed in R2,
//    served with 200), and a commit that read the next number after another's batch made a second
//    version from the same upload;
//  - concurrent alias sets each read the same "before", so the audit log said two moves started
//    from one version and the chain (each record's before = the previous record's after) broke.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish, putChunk, stageUpload } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
beforeAll(async () => {
  worker = await startWorker();
});
afterAll(() => worker?.dispose());

const q = async <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  (
    await worker.db
      .prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;
const manifests = async () =>
  (await worker.r2.list({ prefix: 'manifests/' })).objects.map((o) => o.key.slice('manifests/'.length));

describe('concurrent commits of one upload', () => {
  it('make exactly one version and one manifest; the others get a coded 409 and write nothing', async () => {
    await createModel(worker, 'raced');
    const staged = await stageUpload(worker, 'raced', await buildLayersModel({ seed: 4, inputs: 3 }));
    for (const c of staged.chunks)
      expect((await putChunk(worker, staged.body.uploadId, c.digest, c.bytes)).status).toBe(200);
    const before = new Set(await manifests());
    // One isolate validates one model at a time, so a commit here is usually done before the next
    // request is read; a pause after the upload is claimed (where validation would run long in
    // production) makes them overlap every time.
    await worker.restart({ FAULT_POINTS: 'commit:after-claim=400' });
    const results = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        await new Promise((res) => setTimeout(res, i * 40));
        const res = await worker.api(`/v1/uploads/${staged.body.uploadId}/commit`, { method: 'POST' });
        return { status: res.status, body: (await res.json()) as { version?: number; error?: { code: string } } };
      }),
    );
    await worker.restart();
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(['conflict', 'upload_committed']).toContain(r.body.error?.code);
    }
    const versions = await q<{ version: number; manifest_digest: string }>(
      "SELECT version, manifest_digest FROM versions WHERE model_id = (SELECT id FROM models WHERE name = 'raced')",
    );
    expect(versions).toEqual([{ version: 1, manifest_digest: expect.any(String) }]);
    expect((await manifests()).filter((d) => !before.has(d))).toEqual([versions[0]!.manifest_digest]);
    expect(
      await q("SELECT id FROM audit WHERE action = 'version.publish' AND subject = 'model/raced/version/1'"),
    ).toHaveLength(1);
  });
});

describe('concurrent alias sets', () => {
  beforeAll(async () => {
    await createModel(worker, 'aliased');
    for (const seed of [1, 2, 3])
      expect((await publish(worker, 'aliased', await buildLayersModel({ seed, inputs: 2 }))).res.status).toBe(201);
  });
  const chain = () =>
    q<{ before: string; after: string }>(
      "SELECT before, after FROM audit WHERE action = 'alias.set' AND subject = 'model/aliased/alias/beta' ORDER BY id",
    ).then((rows) =>
      rows.map((r) => ({
        before: JSON.parse(r.before).version as number | null,
        after: JSON.parse(r.after).version as number,
      })),
    );
  const sequence = async () =>
    (await q<{ sequence: number }>("SELECT sequence FROM models WHERE name = 'aliased'"))[0]!.sequence;

  it('20 at once keep the audit chain whole: each before is the previous after, the last after is the alias', async () => {
    const seq = await sequence();
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await worker.api('/v1/models/aliased/aliases/beta', {
          method: 'PUT',
          json: { version: 1 + (i % 3) },
        });
        return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
      }),
    );
    const moved = results.filter((r) => r.status === 200).length;
    for (const r of results.filter((x) => x.status !== 200))
      expect([r.status, r.body.error?.code]).toEqual([409, 'conflict']);
    expect(moved).toBeGreaterThan(0);
    const records = await chain();
    expect(records).toHaveLength(moved); // one record per move that took
    expect(records[0]!.before).toBeNull();
    for (let i = 1; i < records.length; i++) expect(records[i]!.before).toBe(records[i - 1]!.after);
    const alias = (
      await q<{ version: number }>(
        "SELECT version FROM aliases WHERE name = 'beta' AND model_id = (SELECT id FROM models WHERE name = 'aliased')",
      )
    )[0]!.version;
    expect(alias).toBe(records.at(-1)!.after);
    expect(await sequence()).toBe(seq + moved); // devices were told once per move
  });

  it('ifVersion refuses a stale expectation with 409 conflict and changes nothing', async () => {
    const current = (await chain()).at(-1)!.after;
    const stale = current === 1 ? 2 : 1;
    const [records, seq] = [await chain(), await sequence()];
    const res = await worker.api('/v1/models/aliased/aliases/beta', {
      method: 'PUT',
      json: { version: 3, ifVersion: stale },
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'conflict', details: { current } } });
    expect(await chain()).toEqual(records);
    expect(await sequence()).toBe(seq);
    const ok = await worker.api('/v1/models/aliased/aliases/beta', {
      method: 'PUT',
      json: { version: 3, ifVersion: current },
    });
    expect(ok.status).toBe(200);
    expect((await chain()).at(-1)).toEqual({ before: current, after: 3 });
    // ifVersion null: only when the alias is not set yet.
    expect(
      (await worker.api('/v1/models/aliased/aliases/beta', { method: 'PUT', json: { version: 1, ifVersion: null } }))
        .status,
    ).toBe(409);
    expect(
      (await worker.api('/v1/models/aliased/aliases/gamma', { method: 'PUT', json: { version: 1, ifVersion: null } }))
        .status,
    ).toBe(200);
  });
});
