// The React Native bridge's WebView page in real Chromium against the real control plane: the
// page is the bundled dist/page.html at the provider's origin (https://modelfleet.invalid/, a
// secure context), the control plane answers as a public https host (https://edge.modelfleet.test,
// routed to the Worker, so its CORS headers decide), window.ReactNativeWebView.postMessage is shimmed to hand
// messages to the real bridge client running here in Node (as it runs in the RN app), and
// messages go in as `message` events, as react-native-webview delivers them. Load, predict,
// update to a new version, a tampered chunk refused; the edge sees the platform react-native-*;
// sketches and health records reach the control plane from the page; WASM runs from the binary
// inlined in the page and WebGPU where the browser has it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Baseline, windowOf } from '@modelfleet/protocol';
import { type BridgeClient, createBridgeClient } from '../../mobile-bridge/src/client.ts';
import { PAGE_BASE_URL } from '../../mobile-bridge/src/page-origin.ts';
import { referencePredict } from '../../web-sdk/test/helpers.ts';
import { createApp } from '../fixtures/drift.ts';
import { type ModelArtifacts, buildLayersModel } from '../fixtures/models.ts';
import { ROOT } from '../harness/bundle.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { toArrays } from '../../web-sdk/src/tensors.ts';

let worker: TestWorker;
let browser: Browser;
let page: Page;
let bridge: BridgeClient;
let model: Awaited<ReturnType<BridgeClient['load']>>;
const versions: ModelArtifacts[] = [];
const tickets: string[] = [];
const rows = [
  [0.1, 0.2, 0.3, 0.4],
  [1, -1, 0.5, 2],
];
// A drift baseline in every manifest, so the page sketches inputs as the web SDK does.
const baseline: Baseline = {
  features: ['a', 'b', 'c', 'd'].map((name) => ({
    name,
    kind: 'numeric' as const,
    edges: [-2, -1, -0.5, 0, 0.5, 1, 2],
  })),
};
let appKey: string;

async function publishVersion(seed: number) {
  const a = await buildLayersModel({ seed, inputs: 4 });
  const r = await publish(worker, 'phone', a, { baseline });
  expect(r.res.status).toBe(201);
  await worker.api('/v1/models/phone/aliases/champion', { method: 'PUT', json: { version: r.body.version } });
  versions.push(a);
}

/** The control plane's address as the page sees it: a public https host, as in production. */
const EDGE = 'https://edge.modelfleet.test';
const toWorker = (url: string) => worker.url + url.slice(EDGE.length);

/**
 * Opens the bundled page where the provider puts it, with the React Native shim, and wires it to
 * a bridge client here. Requests to EDGE go to the Worker; Playwright answers CORS preflights
 * itself, the Worker's own CORS headers on each response are what Chromium checks.
 */
async function openBridgePage(b: Browser, options: Omit<Parameters<typeof createBridgeClient>[0], 'endpoint'>) {
  const html = readFileSync(join(ROOT, 'mobile-bridge/dist/page.html'), 'utf8');
  const p = await b.newPage();
  await p.route(`${PAGE_BASE_URL}**`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await p.route(`${EDGE}/**`, async (r) =>
    r.fulfill({ response: await r.fetch({ url: toWorker(r.request().url()) }) }),
  );
  p.on('pageerror', (e) => console.error(`[bridge page] ${e.message}`));
  let client!: BridgeClient;
  await p.exposeFunction('__toNative', (raw: string) => client.receive(raw));
  await p.addInitScript(() => {
    (globalThis as any).ReactNativeWebView = { postMessage: (m: string) => (globalThis as any).__toNative(m) };
  });
  client = createBridgeClient(
    { ...options, endpoint: EDGE },
    {
      post: (raw) =>
        void p
          .evaluate((m) => (globalThis as any).dispatchEvent(new MessageEvent('message', { data: m })), raw)
          .catch(() => {}),
    },
  );
  await p.goto(PAGE_BASE_URL);
  return { page: p, client };
}

beforeAll(async () => {
  [worker, browser] = await Promise.all([startWorker({ http: true }), launchChromium()]);
  await createModel(worker, 'phone');
  await publishVersion(81);
  appKey = await createApp(worker);
  ({ page, client: bridge } = await openBridgePage(browser, {
    appKey,
    trustRoot: worker.rootEnvelope,
    os: 'android',
    backends: ['cpu'],
    pollInterval: 0,
    deviceId: 'phone-1',
  }));
  page.on('request', (r) => r.url().includes('/v1/edge/tickets/') && tickets.push(r.url()));
}, 120_000);
afterAll(async () => {
  await bridge?.close();
  await browser?.close();
  await worker?.dispose();
});

it('loads and predicts through the bridge like TF.js itself, reporting react-native-android to the edge', async () => {
  model = await bridge.load('phone');
  expect(model).toMatchObject({ name: 'phone', version: 1, backend: 'cpu' });
  expect(toArrays(await model.predict(rows))).toEqual({ out: await referencePredict(versions[0]!, rows) });
  expect(tickets.length).toBeGreaterThan(0);
  expect(tickets[0]).toContain('platform=react-native-android');
});

it('updates to a new version on reload and predicts with it', async () => {
  await publishVersion(82);
  const r = await model.reload();
  expect(r).toMatchObject({ version: 2, changed: true });
  expect(r.downloadedBytes).toBeGreaterThan(0);
  expect(model.version).toBe(2);
  expect(toArrays(await model.predict(rows))).toEqual({ out: await referencePredict(versions[1]!, rows) });
});

it('refuses a tampered chunk: the update is not activated, v2 keeps answering, the code reaches the app', async () => {
  await publishVersion(83);
  await page.route('**/v1/edge/chunks/**', async (route) => {
    const res = await route.fetch({ url: toWorker(route.request().url()) });
    const bytes = Buffer.from(await res.body());
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
    await route.fulfill({ response: res, body: bytes });
  });
  // A model this small travels inside the ticket bundle (SPEC 1.6): tamper with it there too.
  await page.route('**/v1/edge/tickets/**', async (route) => {
    const res = await route.fetch({ url: toWorker(route.request().url()) });
    const bundle = (await res.json()) as { chunks?: { data: string }[] };
    for (const c of bundle.chunks ?? []) {
      const bytes = Buffer.from(c.data, 'base64');
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
      c.data = bytes.toString('base64');
    }
    await route.fulfill({ response: res, json: bundle });
  });
  const r = await model.reload();
  expect(r).toMatchObject({ version: 2, changed: false });
  const status = (await bridge.status()) as Record<string, { version: number; lastError: { code: string } | null }>;
  expect(status.phone).toMatchObject({ version: 2, lastError: { code: 'chunk_digest_mismatch' } });
  expect(toArrays(await model.predict(rows))).toEqual({ out: await referencePredict(versions[1]!, rows) });
  await page.unroute('**/v1/edge/chunks/**');
  await page.unroute('**/v1/edge/tickets/**');
});

it('a model that does not exist comes back as the SDK’s coded error; with the network clean again, v3 activates', async () => {
  await expect(bridge.load('no-such-model')).rejects.toMatchObject({
    code: expect.stringMatching(/unknown_model|not_found|model_not_in_app/),
  });
  expect(bridge.endpoint.pending).toBe(0);
  expect(await model.reload()).toMatchObject({ version: 3, changed: true });
  expect(toArrays(await model.predict(rows))).toEqual({ out: await referencePredict(versions[2]!, rows) });
});

it('sends the sketch and the health record from the page, as the web SDK does', async () => {
  for (let i = 0; i < 10; i++) await model.predict([[Math.sin(i), Math.cos(i), (i % 3) - 1, 0.5]]);
  const stats = (await bridge.flush()) as { sent: number; queued: number; dropped: Record<string, number> };
  expect(stats).toMatchObject({ queued: 0 });
  expect(stats.sent).toBeGreaterThanOrEqual(2);
  expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
  const sketches = await (await worker.api(`/v1/models/phone/versions/3/sketches/${windowOf(new Date())}`)).json();
  expect(sketches).toMatchObject({ devices: 1 });
});

it.each([
  ['wasm', ['wasm', 'cpu']],
  ['webgpu', undefined], // the default order; this Chromium has WebGPU (SwiftShader)
] as const)(
  'runs on %s in the page (no .wasm fetched: the binary is inlined) and matches TF.js CPU',
  async (backend, backends) => {
    const other = await openBridgePage(browser, {
      appKey,
      trustRoot: worker.rootEnvelope,
      os: 'ios',
      pollInterval: 0,
      deviceId: `phone-${backend}`,
      ...(backends ? { backends: [...backends] } : {}),
    });
    const fetched: string[] = [];
    other.page.on('request', (r) => fetched.push(r.url()));
    try {
      const m = await other.client.load('phone');
      expect(m.backend).toBe(backend);
      const out = await m.predict(rows);
      const ref = (await referencePredict(versions.at(-1)!, rows)) as number[][];
      expect(out.out!.shape).toEqual([rows.length, ref[0]!.length]);
      out.out!.data.forEach((x, i) => expect(Math.abs(x - ref.flat()[i]!)).toBeLessThan(1e-5));
      expect(fetched.filter((u) => u.endsWith('.wasm'))).toEqual([]);
    } finally {
      await other.client.close();
      await other.page.close();
    }
  },
);
