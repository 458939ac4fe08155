// Bounded input (issue 15, "Bounded bodies everywhere"), against the real Worker in workerd: each
// attack failed on the code before this change and must keep failing the attacker after it.
//  - a chunked (no Content-Length) upload to a device route was read whole before its 413;
//  - `Range: bytes=<past the end>-` answered 206 with the whole chunk;
//  - an operator could close tomorrow's window, after which every upload that day was refused;
//  - a publisher's model.json declaring a huge tensor was chunk-planned (allocating per chunk) before
//    its size was checked: 4.3 s and 339 MB for [2^42]; [2^40, 1024] is 2^30 chunks, which never ends;
//  - a 10,000-deep `params` passed validation and then failed every serialisation: a permanent 500.
import { type Baseline, windowOf } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const edges = [-2, -1, 0, 1, 2];
const baseline: Baseline = { features: [{ name: 'f0', kind: 'numeric', edges }] };
let worker: TestWorker;
let appKey: string;
let chunk: { digest: string; size: number };
const today = windowOf(new Date());

beforeAll(async () => {
  worker = await startWorker({ http: true });
  await createModel(worker, 'fraud');
  const r = await publish(worker, 'fraud', await buildLayersModel({ seed: 1, inputs: 1 }), { baseline });
  expect(r.res.status).toBe(201);
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  const envelope = (await (
    await worker.api(`/v1/edge/manifests/${r.body.manifestDigest}`, { token: null })
  ).json()) as { payload: string };
  chunk = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()).chunks[0];
});
afterAll(() => worker?.dispose());

/** A chunked body offering `total` bytes, one `piece` per pull, and how many bytes the server has pulled so far. */
function offered(total: number, piece: Uint8Array) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += piece.byteLength;
      controller.enqueue(piece);
    },
  });
  return { body, pulled: () => pulled };
}

describe('bounded bodies', () => {
  it('a chunked 64 MiB body to a device route is refused at the cap, without reading the rest', async () => {
    const total = 64 * 1024 * 1024;
    const { body, pulled } = offered(total, new Uint8Array(64 * 1024).fill(7));
    // The server answers 413 and stops reading; a client still writing may instead see the
    // connection closed under it (a busy machine makes that race likely): either way it was refused.
    const res = await fetch(`${worker.url}/v1/edge/sketches/fraud/1?device=attacker-1`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
    } as RequestInit).catch((e: Error) => e);
    if (res instanceof Error)
      expect(String((res as Error & { cause?: unknown }).cause ?? res.message)).toMatch(
        /other side closed|ECONNRESET|EPIPE|socket/i,
      );
    else {
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    }
    // The server stopped reading at the 64 KiB cap; what the client had buffered by then is far below the 64 MiB it offered.
    expect(pulled()).toBeLessThan(total / 4);
    // Nothing was counted, and the edge still takes a real upload.
    const status = (await (await worker.api(`/v1/models/fraud/versions/1/sketches/${today}`)).json()) as {
      devices: number;
    };
    expect(status.devices).toBe(0);
  });
});

describe('operator routes', () => {
  // Already true before this change (Hono's bodyLimit counts a chunked stream): kept so it stays true.
  it('a chunked JSON body past the 8 MiB limit is refused at the cap, without reading the rest', async () => {
    const total = 256 * 1024 * 1024;
    const { body, pulled } = offered(total, new Uint8Array(256 * 1024).fill(32)); // spaces: valid JSON whitespace, so only the size can refuse it
    const res = await fetch(`${worker.url}/v1/models/fraud/uploads`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${worker.adminToken}` },
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled()).toBeLessThan(total / 4);
  }, 60_000);
});

describe('ranges', () => {
  it('a range past the end is 416 with the size, not 206 with the whole chunk; a valid range is still 206', async () => {
    const past = await fetch(`${worker.url}/v1/edge/chunks/${chunk.digest}`, { headers: { range: 'bytes=99999999-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${chunk.size}`);
    expect((await past.arrayBuffer()).byteLength).toBe(0);
    const first = await fetch(`${worker.url}/v1/edge/chunks/${chunk.digest}`, { headers: { range: 'bytes=0-3' } });
    expect(first.status).toBe(206);
    expect((await first.arrayBuffer()).byteLength).toBe(4);
  });
});

describe('windows', () => {
  it('an operator cannot close a window that has not begun; the day stays open for uploads', async () => {
    const res = await worker.api(`/v1/models/fraud/versions/1/sketches/${today + 1}/close`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'bad_request', message: expect.stringContaining('in the future') },
    });
    const windows = (await (await worker.api('/v1/models/fraud/drift')).json()) as { windows: unknown[] };
    expect(windows.windows).toHaveLength(0);
  });
});

describe('publisher uploads', () => {
  it('a model.json declaring 4 PiB of weights is refused from its declared size, before any chunk is planned', async () => {
    const artifacts = await buildLayersModel({ seed: 3, inputs: 1 });
    const modelJson = structuredClone(artifacts.modelJson) as any;
    modelJson.weightsManifest[0].weights.push({ name: 'huge/kernel', shape: [2 ** 40, 1024], dtype: 'float32' });
    const res = await worker.api('/v1/models/fraud/uploads', {
      method: 'POST',
      json: { format: 'tfjs-layers', modelJson, chunks: [] },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      error: {
        code: 'payload_too_large',
        message: expect.stringMatching(/^model weights are 45035996273705\d\d bytes/),
      },
    }); // 2^52 + the model's own
  }, 30_000);

  it('params nested deeper than 32 levels are a coded 400; the registry keeps answering', async () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const artifacts = await buildLayersModel({ seed: 4, inputs: 1 });
    const res = await worker.api('/v1/models/fraud/uploads', {
      method: 'POST',
      body: `{"format":"tfjs-layers","modelJson":${JSON.stringify(artifacts.modelJson)},"chunks":[],"params":${'{"d":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('at most 32 levels');
    expect((await worker.api('/v1/models/fraud/versions')).status).toBe(200);
    const shallow = await worker.api('/v1/models/fraud/uploads', {
      method: 'POST',
      json: { format: 'tfjs-layers', modelJson: artifacts.modelJson, chunks: [], params: { a: { b: { c: 1 } } } },
    });
    expect(shallow.status).not.toBe(400); // 422 weights_mismatch (no chunks sent): past validation
  });
});
