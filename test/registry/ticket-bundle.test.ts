// SPEC 1.6, the ticket bundle: one response with the ticket, the roots after the device's, the
// manifest the ticket names unless the device holds it, and a small model's chunks; its ETag
// covers the newest root; the app key may come as ?key= so browsers need no preflight.
import { createHash } from 'node:crypto';
import {
  type Envelope,
  INLINE_CHUNK_BYTES,
  decodeInlineChunk,
  generateKeyPair,
  signRotatedRoot,
  updateRoot,
  verifyInitialRoot,
  verifyManifest,
  verifyTicket,
} from '@modelfleet/protocol';
import { inDays } from '@modelfleet/protocol/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;
const digests: Record<string, string> = {};

const bundle = (model: string, query = '', headers: Record<string, string> = {}) =>
  worker.api(`/v1/edge/tickets/${model}?device=d&bundle=1&root=1${query}&key=${appKey}`, { token: null, headers });

beforeAll(async () => {
  worker = await startWorker();
  for (const [name, a] of [
    ['big', await buildLayersModel({ seed: 3, inputs: 64, hidden: 512, outputs: 2 })],
    ['tiny', await buildLayersModel({ seed: 4 })],
  ] as const) {
    await createModel(worker, name);
    digests[name] = (await publish(worker, name, a)).body.manifestDigest;
    await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
  }
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
});
afterAll(() => worker?.dispose());

it('carries the ticket and the manifest it names, each verifying on its own; the key may be a query parameter', async () => {
  const res = await bundle('big');
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('private, no-cache');
  const body = (await res.json()) as {
    type: string;
    ticket: Envelope;
    roots: Envelope[];
    manifest: Envelope;
    chunks?: unknown;
  };
  expect(body.type).toBe('modelfleet/ticket-bundle');
  expect(body.roots).toEqual([]);
  const root = await verifyInitialRoot(worker.rootEnvelope);
  const ticket = await verifyTicket(body.ticket, root, { now: new Date() });
  expect(ticket.manifestDigest).toBe(digests.big);
  const { manifest } = await verifyManifest(body.manifest, digests.big!, root);
  expect(manifest.totalBytes).toBeGreaterThan(INLINE_CHUNK_BYTES);
  expect(body.chunks).toBeUndefined(); // a large model's chunks stay separate, cacheable by digest
});

it('leaves out a manifest the device names in have, and refuses a malformed have', async () => {
  const body = (await (await bundle('big', `&have=${'0'.repeat(16)},${digests.big!.slice(0, 16)}`)).json()) as Record<
    string,
    unknown
  >;
  expect(body.manifest).toBeUndefined();
  expect(body.ticket).toBeDefined();
  expect((await bundle('big', '&have=xyz')).status).toBe(400);
  expect((await bundle('big', `&have=${Array(5).fill('a'.repeat(16)).join(',')}`)).status).toBe(400);
});

it("carries a small model's chunks, which hash to the manifest's digests", async () => {
  const body = (await (await bundle('tiny')).json()) as {
    manifest: Envelope;
    chunks: { digest: string; data: string }[];
  };
  const { manifest } = await verifyManifest(body.manifest, digests.tiny!, await verifyInitialRoot(worker.rootEnvelope));
  expect(body.chunks.map((c) => c.digest)).toEqual(manifest.chunks.map((c) => c.digest));
  for (const c of body.chunks) expect(createHash('sha256').update(decodeInlineChunk(c)).digest('hex')).toBe(c.digest);
});

it('answers 304 to its ETag until a new root is installed, then sends that root', async () => {
  const first = await bundle('tiny');
  const etag = first.headers.get('etag')!;
  expect(etag).toMatch(/-r1"$/);
  expect((await bundle('tiny', '', { 'if-none-match': etag })).status).toBe(304);
  const next = { ...worker.keys, root: [await generateKeyPair()] };
  expect(
    (
      await worker.api('/v1/keys/root', {
        method: 'PUT',
        json: await signRotatedRoot(worker.keys.root, 1, next, inDays(60)),
      })
    ).status,
  ).toBe(200);
  const rotated = await bundle('tiny', '', { 'if-none-match': etag });
  expect(rotated.status).toBe(200);
  expect(rotated.headers.get('etag')).toMatch(/-r2"$/);
  const { roots } = (await rotated.json()) as { roots: Envelope[] };
  expect((await updateRoot(await verifyInitialRoot(worker.rootEnvelope), roots, new Date())).version).toBe(2);
  const upToDate = (await (
    await worker.api(`/v1/edge/tickets/tiny?device=d&bundle=1&root=2&key=${appKey}`, { token: null })
  ).json()) as { roots: Envelope[] };
  expect(upToDate.roots).toEqual([]);
});

it('without bundle=1 the route answers the bare ticket envelope, as before', async () => {
  const res = await worker.api('/v1/edge/tickets/tiny?device=d', {
    token: null,
    headers: { 'x-modelfleet-app-key': appKey },
  });
  expect(Object.keys((await res.json()) as object).sort()).toEqual(['payload', 'payloadType', 'signatures']);
  expect(
    (await worker.api(`/v1/edge/tickets/tiny?device=d&bundle=1&root=-1&key=${appKey}`, { token: null })).status,
  ).toBe(400);
});
