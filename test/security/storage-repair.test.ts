// Repairable storage (issue 15, "A corrupted stored chunk cannot be repaired"), against the real
// Worker in workerd. Before this change, one flipped byte of a chunk in R2:
//  - was served by the edge as 200 with the digest as ETag and a year of immutable caching (and
//    inlined into ticket bundles);
//  - could not be replaced: a chunk PUT of the right bytes answered {"stored":false} because the
//    key existed, so every commit naming that chunk kept failing;
//  - and nothing could find it: there was no scrub.
// Each test below failed on that code.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel, type ModelArtifacts } from '../fixtures/models.ts';
import { createToken } from '../fixtures/drift.ts';
import { runCli } from '../harness/cli.ts';
import { createModel, publish, putChunk, stageUpload } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;
let model: ModelArtifacts;
let chunk: { digest: string; size: number };
let good: Uint8Array;
let manifestDigest: string;
let cwd: string;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const chunkKey = () => `chunks/${chunk.digest}`;
const getChunk = (headers: Record<string, string> = {}) =>
  worker.api(`/v1/edge/chunks/${chunk.digest}`, { token: null, headers });
const chunkFaults = async () =>
  (await worker.db.prepare("SELECT kind, digest, detections FROM storage_faults WHERE kind = 'chunk'").all()).results;

/** Overwrites the stored object with its bytes, one byte flipped: what bit rot or a bad write leaves. */
async function flipByte(key: string, at = 0): Promise<Uint8Array> {
  const stored = new Uint8Array(await (await worker.r2.get(key))!.arrayBuffer());
  const bad = stored.slice();
  bad[at] = bad[at]! ^ 0x01;
  await worker.r2.put(key, bad);
  return stored;
}

async function expectWithheld(res: Response, kind: string) {
  expect(res.status).toBe(503);
  expect(res.headers.get('cache-control') ?? '').not.toContain('immutable');
  expect(res.headers.get('etag')).toBeNull();
  expect(await res.json()).toMatchObject({ error: { code: 'content_corrupt', details: { kind } } });
}

beforeAll(async () => {
  worker = await startWorker({ http: true });
  await createModel(worker, 'fraud');
  model = await buildLayersModel({ seed: 5, inputs: 3 });
  const r = await publish(worker, 'fraud', model);
  expect(r.res.status).toBe(201);
  manifestDigest = r.body.manifestDigest;
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  good = model.weightData;
  chunk = { digest: sha(good), size: good.byteLength };
  cwd = mkdtempSync(join(tmpdir(), 'modelfleet-scrub-'));
  mkdirSync(join(cwd, 'fraud-v1'));
  writeFileSync(join(cwd, 'fraud-v1', 'model.json'), JSON.stringify(model.modelJson));
  for (const [p, bytes] of Object.entries(model.weightFiles)) writeFileSync(join(cwd, 'fraud-v1', p), bytes);
});
afterAll(() => worker?.dispose());

describe('the edge serves only bytes it has verified', () => {
  it('a chunk with one flipped byte is withheld (503 content_corrupt, uncached), whole, ranged and in a bundle, and counted', async () => {
    const before = await getChunk();
    expect(before.status).toBe(200);
    expect(sha(new Uint8Array(await before.arrayBuffer()))).toBe(chunk.digest);

    await flipByte(chunkKey()); // this isolate verified the old stored version; the new one is checked afresh
    await expectWithheld(await getChunk(), 'chunk');
    await expectWithheld(await getChunk({ range: 'bytes=0-3' }), 'chunk');
    await expectWithheld(await getChunk(), 'chunk');

    // A small model's chunks ride in the ticket bundle (SPEC 1.6): the corrupt one is left out, the ticket still comes.
    const bundle = await worker.api(`/v1/edge/tickets/fraud?device=d1&bundle=1&root=1&key=${appKey}`, { token: null });
    expect(bundle.status).toBe(200);
    const body = (await bundle.json()) as { manifest?: unknown; chunks?: unknown[] };
    expect(body.manifest).toBeDefined();
    expect(body.chunks).toBeUndefined();

    // Counted where operators look, once per isolate and stored version (not once per request).
    expect(await chunkFaults()).toEqual([{ kind: 'chunk', digest: chunk.digest, detections: 1 }]);
  });

  it('a manifest whose payload no longer hashes to its digest is withheld too', async () => {
    const key = `manifests/${manifestDigest}`;
    const stored = new Uint8Array(await (await worker.r2.get(key))!.arrayBuffer());
    const envelope = JSON.parse(Buffer.from(stored).toString()) as { payload: string };
    const payload = Buffer.from(envelope.payload, 'base64');
    payload[payload.length - 2] = payload[payload.length - 2]! ^ 0x01;
    await worker.r2.put(key, JSON.stringify({ ...envelope, payload: payload.toString('base64') }));
    await worker.restart(); // a fresh isolate: the verified manifest is no longer in its memory
    await expectWithheld(await worker.api(`/v1/edge/manifests/${manifestDigest}`, { token: null }), 'manifest');
    await worker.r2.put(key, stored); // put back: only chunks can be repaired from model files
    expect((await worker.api(`/v1/edge/manifests/${manifestDigest}`, { token: null })).status).toBe(200);
  });
});

describe('a chunk PUT repairs stored bytes that no longer match', () => {
  it('commits fail while the chunk is corrupt; the right bytes replace it (repaired, audited); then commits work and the edge serves it', async () => {
    const staged = await stageUpload(worker, 'fraud', model, { label: 'again' });
    expect(staged.body.missing).toEqual([]); // the key exists, so the publisher is not asked for it
    const refused = await worker.api(`/v1/uploads/${staged.body.uploadId}/commit`, { method: 'POST' });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: { code: 'chunk_digest_mismatch' } });

    const publisher = await createToken(worker, 'publisher');
    const put = await putChunk(worker, staged.body.uploadId, chunk.digest, good, publisher);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ digest: chunk.digest, size: chunk.size, stored: true, repaired: true });
    expect(sha(new Uint8Array(await (await worker.r2.get(chunkKey()))!.arrayBuffer()))).toBe(chunk.digest);

    const audit = ((await (await worker.api(`/v1/audit?action=chunk.repair`)).json()) as { records: any[] }).records;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ subject: `chunk/${chunk.digest}`, actor: expect.stringMatching(/^token:/) });
    expect(await chunkFaults()).toEqual([]);

    // Intact now: the same PUT again writes nothing.
    expect(await (await putChunk(worker, staged.body.uploadId, chunk.digest, good)).json()).toEqual({
      digest: chunk.digest,
      size: chunk.size,
      stored: false,
    });

    const committed = await worker.api(`/v1/uploads/${staged.body.uploadId}/commit`, { method: 'POST' });
    expect(committed.status).toBe(201);
    // The repaired stored version's first read is a ranged one: verified whole, then the range sent.
    const ranged = await getChunk({ range: 'bytes=2-5' });
    expect(ranged.status).toBe(206);
    expect([...new Uint8Array(await ranged.arrayBuffer())]).toEqual([...good.subarray(2, 6)]);
    const served = await getChunk();
    expect(served.status).toBe(200);
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(sha(new Uint8Array(await served.arrayBuffer()))).toBe(chunk.digest);
  });
});

describe('modelfleet scrub', () => {
  it('reports a corrupt chunk with the versions that need it, repairs it from model files, then reports clean', async () => {
    const cli = (...argv: string[]) => runCli(worker, cwd, ...argv);
    expect((await cli('scrub')).code).toBe(0);

    await flipByte(chunkKey(), 7);
    const found = await cli('scrub', '--page-size', '1');
    expect(found.code, found.err).toBe(7);
    expect(found.out).toContain(`corrupt chunk ${chunk.digest} — needed by fraud v1, fraud v2`);
    expect(found.err).toMatch(/scrub: 1 of 3 checked/); // progress, a page at a time
    expect(found.err).toContain('error storage_corrupt');

    // The same through the API: an operator's, not a viewer's.
    const viewer = await createToken(worker, 'viewer');
    expect((await worker.api('/v1/storage/scrub', { token: viewer })).status).toBe(403);
    const page = (await (await worker.api('/v1/storage/scrub?limit=100')).json()) as {
      total: number;
      problems: any[];
      next: string | null;
    };
    expect(page).toMatchObject({
      total: 3,
      next: null,
      problems: [{ kind: 'chunk', digest: chunk.digest, state: 'corrupt' }],
    });

    const repaired = await cli('scrub', '--repair', 'fraud-v1');
    expect(repaired.code, repaired.err).toBe(0);
    expect(repaired.out).toContain('— repaired');
    expect(sha(new Uint8Array(await (await worker.r2.get(chunkKey()))!.arrayBuffer()))).toBe(chunk.digest);

    const clean = await cli('scrub', '--json');
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.out)).toMatchObject({ checked: 3, problems: [], remaining: [], faults: [] });
    expect((await getChunk()).status).toBe(200);
  });

  it('reports a missing manifest as such, and says it cannot be rebuilt from model files', async () => {
    const key = `manifests/${manifestDigest}`;
    const stored = await (await worker.r2.get(key))!.arrayBuffer();
    await worker.r2.delete(key);
    const r = await runCli(worker, cwd, 'scrub', '--json');
    expect(r.code).toBe(7);
    const body = JSON.parse(r.out) as { error: { code: string; message: string; details: { remaining: any[] } } };
    expect(body.error.code).toBe('storage_corrupt');
    expect(body.error.message).toContain('cannot be rebuilt from model files');
    expect(body.error.details.remaining).toEqual([
      { kind: 'manifest', digest: manifestDigest, state: 'missing', versions: [{ model: 'fraud', version: 1 }] },
    ]);
    await worker.r2.put(key, stored);
  });
});
