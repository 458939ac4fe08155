// The bridge's message protocol, host endpoint and page server wired back to back (no WebView):
// round trips, out-of-order replies, timeouts, cancellation, malformed and oversized messages —
// every failure a coded error, and nothing left pending.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pollUntil } from '../../test/harness/poll.ts';
import { createBridgeClient } from './client.ts';
import {
  BRIDGE_VERSION,
  MAX_MESSAGE_CHARS,
  Request,
  decode,
  encode,
  packValue,
  unpackValue,
} from '@modelfleet/protocol/bridge';
import { type PageClient, type PageModel, createPageServer } from './webview/serve.ts';

afterEach(() => vi.useRealTimers());

/** A page whose SDK predicts `x * 2` after `delay(x)` ms, and fails to load "broken". */
function fakePage(delay: (x: number) => number = () => 0) {
  const model: PageModel = {
    version: 3,
    backend: 'wasm',
    predict: async (inputs: never) => {
      const x = (inputs as number[][])[0]![0]!;
      await new Promise((r) => setTimeout(r, delay(x)));
      return { out: new Float32Array([x * 2]) };
    },
    feedback: () => {},
    reload: async () => ({ version: 3, changed: false, downloadedBytes: 0 }),
  };
  const client: PageClient = {
    load: async (name) => {
      if (name === 'broken')
        throw Object.assign(new Error('chunk 1a2b… does not match its digest'), { code: 'chunk_digest_mismatch' });
      return model;
    },
    status: async () => ({ fraud: { state: 'ready' } }),
    flush: async () => ({ sent: 0 }),
    close: async () => {},
  };
  return client;
}

function wire(page = fakePage(), options: { timeoutMs?: number } = {}) {
  const toPage: string[] = [];
  let server: ReturnType<typeof createPageServer>;
  const bridge = createBridgeClient(
    { endpoint: 'https://edge.example', appKey: 'mfa_x', trustRoot: '{"payloadType":"x"}', os: 'android', ...options },
    {
      post: (raw) => {
        toPage.push(raw);
        queueMicrotask(() => server.receive(raw));
      },
    },
  );
  server = createPageServer(
    (raw) => queueMicrotask(() => bridge.receive(raw)),
    async (config) => {
      expect(config).toMatchObject({ os: 'android', appKey: 'mfa_x' });
      return page;
    },
  );
  server.announce();
  return { bridge, toPage };
}

describe('protocol', () => {
  it('round-trips typed arrays as base64 inside JSON, bit for bit and keeping their dtype', () => {
    const v = {
      a: new Float32Array([1.5, -0, 3.4028234663852886e38, Number.NaN]),
      i: new Int32Array([2 ** 31 - 1, -7]),
      u: new Uint8Array([0, 255]),
      t: { dtype: 'float32', shape: [1, 2], data: new Float32Array([0.25, 0.75]) },
      b: [[1, 2]],
      c: 'x',
    };
    const back = unpackValue(JSON.parse(JSON.stringify(packValue(v)))) as typeof v;
    expect(back.a).toBeInstanceOf(Float32Array);
    expect([...back.a.slice(0, 3)]).toEqual([1.5, -0, 3.4028234663852886e38]);
    expect(Number.isNaN(back.a[3])).toBe(true);
    expect(back.i).toEqual(new Int32Array([2 ** 31 - 1, -7])); // not rounded through float32
    expect(back.u).toEqual(new Uint8Array([0, 255]));
    expect(back.t).toEqual({ dtype: 'float32', shape: [1, 2], data: new Float32Array([0.25, 0.75]) });
    expect(back.b).toEqual([[1, 2]]);
    expect(() => unpackValue({ $f32: 'AAA' })).toThrow(/whole number of elements|base64/);
    expect(() => unpackValue({ $i32: 'AAAA' })).toThrow(/whole number of elements/);
  });

  it('refuses what is not the protocol with coded errors', () => {
    const cases: [unknown, string][] = [
      [42, 'malformed_message'],
      ['{not json', 'malformed_message'],
      [JSON.stringify({ v: 2, id: 'a', kind: 'status' }), 'malformed_message'],
      [JSON.stringify({ v: BRIDGE_VERSION, id: 'a', kind: 'predict', model: 'm' }), 'malformed_message'],
      [JSON.stringify({ v: BRIDGE_VERSION, id: 'a', kind: 'status', extra: 1 }), 'malformed_message'],
      ['x'.repeat(MAX_MESSAGE_CHARS + 1), 'payload_too_large'],
    ];
    for (const [raw, code] of cases) expect(() => decode(raw, Request)).toThrow(expect.objectContaining({ code }));
    expect(() =>
      encode({ v: BRIDGE_VERSION, id: 'a', kind: 'predict', model: 'm', inputs: 'y'.repeat(MAX_MESSAGE_CHARS) }),
    ).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
  });
});

describe('bridge client ↔ page server', () => {
  it('carries the web SDK options that cross JSON to the page’s createClient; refuses bad ones', async () => {
    const configs: unknown[] = [];
    let server: ReturnType<typeof createPageServer>;
    const options = {
      endpoint: 'https://edge.example',
      appKey: 'k',
      trustRoot: '{}',
      os: 'ios' as const,
      staleAfter: 60_000,
      caps: { maxTotalBytes: 2 ** 20, maxChunkBytes: 2 ** 18 },
      parallel: 2,
      appVersion: '3.1.0',
    };
    const bridge = createBridgeClient(options, { post: (raw) => queueMicrotask(() => server.receive(raw)) });
    server = createPageServer(
      (raw) => queueMicrotask(() => bridge.receive(raw)),
      async (config) => (configs.push(config), fakePage()),
    );
    server.announce();
    await bridge.load('fraud');
    expect(configs).toEqual([
      {
        endpoint: 'https://edge.example',
        appKey: 'k',
        trustRoot: '{}',
        os: 'ios',
        staleAfter: 60_000,
        caps: { maxTotalBytes: 2 ** 20, maxChunkBytes: 2 ** 18 },
        parallel: 2,
        appVersion: '3.1.0',
      },
    ]);
    const bad = createBridgeClient(
      { ...options, parallel: 0 },
      { post: (raw) => queueMicrotask(() => server2.receive(raw)) },
    );
    const server2 = createPageServer(
      (raw) => queueMicrotask(() => bad.receive(raw)),
      async () => fakePage(),
    );
    server2.announce();
    await expect(bad.load('fraud')).rejects.toMatchObject({ code: 'malformed_message' });
  });

  it('waits for the page, sends init once, loads and predicts', async () => {
    const { bridge, toPage } = wire();
    const model = await bridge.load('fraud');
    expect(model).toMatchObject({ version: 3, backend: 'wasm' });
    expect(await model.predict([[21]])).toEqual({ out: new Float32Array([42]) });
    expect(await model.predict([new Float32Array([4])])).toEqual({ out: new Float32Array([8]) }); // typed arrays cross as base64
    expect(toPage.map((r) => JSON.parse(r).kind)).toEqual(['init', 'load', 'predict', 'predict']);
    expect(await bridge.status()).toEqual({ fraud: { state: 'ready' } });
    expect(bridge.endpoint.pending).toBe(0);
  });

  it('matches replies that come back out of order', async () => {
    const { bridge } = wire(fakePage((x) => (x === 1 ? 30 : 0)));
    const model = await bridge.load('fraud');
    const order: number[] = [];
    const calls = [1, 2, 3].map((x) => model.predict([[x]]).then((r) => (order.push(x), r)));
    expect(await Promise.all(calls)).toEqual([2, 4, 6].map((y) => ({ out: new Float32Array([y]) })));
    expect(order[order.length - 1]).toBe(1); // the slow one answered last, each to its own caller
  });

  it('passes the SDK’s error codes through unchanged', async () => {
    const { bridge } = wire();
    await expect(bridge.load('broken')).rejects.toMatchObject({ code: 'chunk_digest_mismatch' });
    await expect(bridge.endpoint.call({ kind: 'predict', model: 'never-loaded', inputs: [[1]] })).rejects.toMatchObject(
      { code: 'not_ready' },
    );
  });

  it('times out a request the page never answers, and drops the late answer', async () => {
    const { bridge } = wire(
      fakePage(() => 200),
      { timeoutMs: 50 },
    );
    const model = await bridge.load('fraud').catch(() => null);
    expect(model).not.toBeNull();
    await expect(model!.predict([[1]])).rejects.toMatchObject({ code: 'timeout' });
    expect(bridge.endpoint.pending).toBe(0);
    // The page answers 200 ms after the post: wait (bounded) for that late answer to arrive and be dropped.
    await pollUntil(
      async () => bridge.endpoint.dropped.unknownId,
      (n) => n > 0,
      { timeoutMs: 5_000, what: 'the late answer', everyMs: 20 },
    );
    expect(bridge.endpoint.dropped.unknownId).toBe(1);
  });

  it('cancels by AbortSignal: rejected at once, the page told, its answer suppressed', async () => {
    const { bridge, toPage } = wire(fakePage(() => 50));
    const model = await bridge.load('fraud');
    const abort = new AbortController();
    const call = model.predict([[1]], { signal: abort.signal });
    await new Promise((r) => setTimeout(r, 5)); // posted, the page is working on it
    abort.abort();
    await expect(call).rejects.toMatchObject({ code: 'cancelled' });
    expect(JSON.parse(toPage.at(-1)!)).toMatchObject({ kind: 'cancel' });
    await new Promise((r) => setTimeout(r, 100));
    expect(bridge.endpoint.dropped.unknownId).toBe(0); // the page did not answer the cancelled id
    expect(bridge.endpoint.pending).toBe(0);
    await expect(model.predict([[1]], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('counts malformed messages from the page and keeps working', async () => {
    const { bridge } = wire();
    const model = await bridge.load('fraud');
    for (const junk of [
      '{',
      42,
      JSON.stringify({ v: BRIDGE_VERSION, id: 'r999', ok: true }),
      'z'.repeat(MAX_MESSAGE_CHARS + 1),
    ])
      bridge.receive(junk);
    expect(bridge.endpoint.dropped.malformed).toBe(4);
    expect(await model.predict([[2]])).toEqual({ out: new Float32Array([4]) });
  });

  it('answers a malformed request with its id and a coded error', async () => {
    const replies: string[] = [];
    const server = createPageServer(
      (raw) => replies.push(raw),
      async () => fakePage(),
    );
    server.receive(JSON.stringify({ v: BRIDGE_VERSION, id: 'q1', kind: 'predict', model: 'm' })); // no inputs
    server.receive('garbage');
    await new Promise((r) => setTimeout(r, 0));
    expect(replies.map((r) => JSON.parse(r))).toEqual([
      { v: BRIDGE_VERSION, id: 'q1', ok: false, error: { code: 'malformed_message', message: expect.any(String) } },
      { v: BRIDGE_VERSION, id: '?', ok: false, error: { code: 'malformed_message', message: expect.any(String) } },
    ]);
  });

  it('refuses an oversized request before sending it', async () => {
    const { bridge } = wire();
    const model = await bridge.load('fraud');
    await expect(model.predict([Array.from({ length: MAX_MESSAGE_CHARS / 2 }, () => 1.25)])).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    expect(bridge.endpoint.pending).toBe(0);
  });

  it('a WebView restart fails what was pending and re-inits on the next call', async () => {
    const posted: string[] = [];
    const bridge = createBridgeClient(
      { endpoint: 'https://e.example', appKey: 'k', trustRoot: '{}', os: 'ios' },
      { post: (raw) => posted.push(raw) },
    );
    const ready = encode({ v: BRIDGE_VERSION, event: 'ready', data: {} });
    const tick = () => new Promise((r) => setTimeout(r, 0));
    bridge.receive(ready);
    const pending = bridge.status(); // init goes out; this page never answers
    await tick();
    bridge.reset('render process gone');
    await expect(pending).rejects.toMatchObject({ code: 'bridge_closed' });
    expect(bridge.endpoint.pending).toBe(0);
    bridge.receive(ready); // the WebView came back
    void bridge.status().catch(() => {});
    await tick();
    expect(posted.map((r) => JSON.parse(r).kind)).toEqual(['init', 'init']);
    await bridge.close();
  });
});
