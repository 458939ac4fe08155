// The device-facing routes: app scoping, rate limits, caching headers, Range, 304s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish, registrySnapshot } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;
let otherAppKey: string;
let digest: string;
let chunk: { digest: string; size: number };

const device = (key: string) => ({ token: null, headers: { 'x-modelfleet-app-key': key } });

beforeAll(async () => {
  worker = await startWorker({ deviceRateLimit: 5 });
  await createModel(worker, 'fraud');
  await createModel(worker, 'secret');
  const r = await publish(worker, 'fraud', await buildLayersModel({ seed: 2, inputs: 4, hidden: 64, outputs: 1 }));
  digest = r.body.manifestDigest;
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['fraud'] } })).json()) as any
  ).appKey;
  otherAppKey = (
    (await (
      await worker.api('/v1/apps', { method: 'POST', json: { name: 'other', models: ['secret'] } })
    ).json()) as any
  ).appKey;
  const env = (await (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).json()) as any;
  chunk = JSON.parse(Buffer.from(env.payload, 'base64').toString()).chunks[0];
});
afterAll(() => worker?.dispose());

describe('tickets', () => {
  it('need a valid app key scoped to the model', async () => {
    expect((await worker.api('/v1/edge/tickets/fraud?device=a', { token: null })).status).toBe(401);
    expect(
      ((await (await worker.api('/v1/edge/tickets/fraud?device=a', device('mfa_wrong'))).json()) as any).error.code,
    ).toBe('app_key_invalid');
    const res = await worker.api('/v1/edge/tickets/fraud?device=a', device(otherAppKey));
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('model_not_in_app');
  });

  it('need a device key', async () => {
    const res = await worker.api('/v1/edge/tickets/fraud', device(appKey));
    expect(res.status).toBe(400);
  });

  it('answer 304 to the current ETag and grow the sequence when the champion moves', async () => {
    const first = await worker.api('/v1/edge/tickets/fraud?device=b', device(appKey));
    const etag = first.headers.get('etag')!;
    const seq1 = JSON.parse(Buffer.from(((await first.json()) as any).payload, 'base64').toString()).sequence;
    const again = await worker.api('/v1/edge/tickets/fraud?device=b', {
      token: null,
      headers: { 'x-modelfleet-app-key': appKey, 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1, reason: 're-pin' } });
    const moved = await worker.api('/v1/edge/tickets/fraud?device=b', {
      token: null,
      headers: { 'x-modelfleet-app-key': appKey, 'if-none-match': etag },
    });
    expect(moved.status).toBe(200);
    expect(JSON.parse(Buffer.from(((await moved.json()) as any).payload, 'base64').toString()).sequence).toBe(seq1 + 1);
  });

  it('allow cross-origin use from any page (CORS preflight and exposed headers)', async () => {
    const pre = await worker.api('/v1/edge/tickets/fraud?device=x', {
      method: 'OPTIONS',
      token: null,
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-modelfleet-app-key,range',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toContain('x-modelfleet-app-key');
    const res = await worker.api('/v1/edge/tickets/fraud?device=x', {
      token: null,
      headers: { origin: 'https://shop.example', 'x-modelfleet-app-key': appKey },
    });
    expect(res.headers.get('access-control-expose-headers')).toContain('etag');
  });

  it('are rate-limited per device', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await worker.api('/v1/edge/tickets/fraud?device=greedy', device(appKey))).status);
    expect(statuses).toContain(429);
    expect((await worker.api('/v1/edge/tickets/fraud?device=polite', device(appKey))).status).toBe(200);
  });

  it('say unknown_model and unknown_version (no champion) clearly', async () => {
    const star = (
      (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'all', models: ['*'] } })).json()) as any
    ).appKey;
    expect(
      ((await (await worker.api('/v1/edge/tickets/nosuch?device=c', device(star))).json()) as any).error.code,
    ).toBe('unknown_model');
    expect(
      ((await (await worker.api('/v1/edge/tickets/secret?device=c', device(star))).json()) as any).error.code,
    ).toBe('unknown_version');
  });
});

describe('content-addressed objects', () => {
  it('chunks are immutable, ETagged and support Range', async () => {
    const full = await worker.api(`/v1/edge/chunks/${chunk.digest}`, { token: null });
    expect(full.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(full.headers.get('etag')).toBe(`"${chunk.digest}"`);
    const bytes = new Uint8Array(await full.arrayBuffer());
    expect(bytes.length).toBe(chunk.size);
    const part = await worker.api(`/v1/edge/chunks/${chunk.digest}`, {
      token: null,
      headers: { range: 'bytes=10-19' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${chunk.size}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));
    const tail = await worker.api(`/v1/edge/chunks/${chunk.digest}`, { token: null, headers: { range: 'bytes=-7' } });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 7));
    const cached = await worker.api(`/v1/edge/chunks/${chunk.digest}`, {
      token: null,
      headers: { 'if-none-match': `"${chunk.digest}"` },
    });
    expect(cached.status).toBe(304);
  });

  it('unknown or malformed digests are 404/400, and unreferenced chunks are never served', async () => {
    expect((await worker.api(`/v1/edge/chunks/${'0'.repeat(64)}`, { token: null })).status).toBe(404);
    expect((await worker.api('/v1/edge/chunks/../../uploads', { token: null })).status).toBeGreaterThanOrEqual(400);
    expect((await worker.api('/v1/edge/manifests/XYZ', { token: null })).status).toBe(400);
    await worker.r2.put(`chunks/${'f'.repeat(64)}`, new Uint8Array([1, 2, 3]));
    expect((await worker.api(`/v1/edge/chunks/${'f'.repeat(64)}`, { token: null })).status).toBe(404);
  });

  it('serves the same manifest bytes again from the isolate cache', async () => {
    const first = await (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).text();
    const second = await (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).text();
    expect(second).toBe(first);
    expect(JSON.parse(second).payloadType).toBe('application/vnd.modelfleet.manifest+json');
  });

  it('reading never changes the registry', async () => {
    const before = await registrySnapshot(worker);
    await worker.api(`/v1/edge/manifests/${digest}`, { token: null });
    await worker.api('/v1/edge/roots?since=0', { token: null });
    expect(await registrySnapshot(worker)).toEqual(before);
  });
});
