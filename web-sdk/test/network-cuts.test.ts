// 1,000 downloads cut at a random byte, each then resumed: no corrupt activation ever, and a
// resume re-fetches at most one chunk's worth of bytes (partials resume with Range, SPEC 5.4).
// The network is the far edge, so it is faked here from responses recorded off the real
// control plane; storage is real IndexedDB code on fake-indexeddb.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import { openStore } from '../src/store.ts';
import { type SyncContext, syncModel } from '../src/sync.ts';
import { assertCacheIntact, controlPlane, freshDbName, publishAs } from './helpers.ts';

const CUTS = Number(process.env.SDK_CUTS ?? 1000);
let worker: TestWorker & { appKey: string };
let v1Paths: Map<string, Uint8Array>;
let v2Paths: Map<string, Uint8Array>;
let v2Manifest: { chunks: { digest: string; size: number }[]; totalBytes: number };

async function record(paths: string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const p of paths) {
    const res = await fetch(`${worker.url}${p}`, { headers: { 'x-modelfleet-app-key': worker.appKey } });
    out.set(p.split('?')[0]!, new Uint8Array(await res.arrayBuffer()));
  }
  return out;
}

async function recordChampion(): Promise<Map<string, Uint8Array>> {
  // The ticket bundle (SPEC 1.6) as the SDK asks for it: ticket, newer roots and the manifest in one body.
  const base = await record(['/v1/edge/roots?since=1', '/v1/edge/tickets/cuts?device=d&bundle=1&root=1']);
  const ticket = JSON.parse(
    Buffer.from(
      JSON.parse(new TextDecoder().decode(base.get('/v1/edge/tickets/cuts')!)).ticket.payload,
      'base64',
    ).toString(),
  );
  const m = await record([`/v1/edge/manifests/${ticket.manifestDigest}`]);
  const manifest = JSON.parse(
    Buffer.from(JSON.parse(new TextDecoder().decode(m.values().next().value!)).payload, 'base64').toString(),
  );
  const chunks = await record(manifest.chunks.map((c: { digest: string }) => `/v1/edge/chunks/${c.digest}`));
  v2Manifest = manifest;
  return new Map([...base, ...m, ...chunks]);
}

/** Serves recorded bodies (with Range); after `budget` chunk bytes the network dies mid-stream. */
function network(paths: Map<string, Uint8Array>, budget = Infinity) {
  const stats = { chunkBytes: 0, cut: false };
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const body = paths.get(url.pathname);
    if (!body) return new Response('{"error":{"code":"not_found","message":"x"}}', { status: 404 });
    if (!url.pathname.includes('/chunks/')) {
      if (stats.cut) throw new TypeError('network is down');
      return new Response(body.slice(), { status: 200 });
    }
    const range = new Headers(init?.headers).get('range')?.match(/bytes=(\d+)-/);
    const from = range ? Number(range[1]) : 0;
    const part = body.subarray(from);
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let at = 0;
        while (at < part.length) {
          if (stats.cut || stats.chunkBytes >= budget) {
            stats.cut = true;
            controller.error(new TypeError('connection reset'));
            return;
          }
          const n = Math.min(16 * 1024, part.length - at, budget - stats.chunkBytes);
          controller.enqueue(part.slice(at, at + n));
          stats.chunkBytes += n;
          at += n;
          await Promise.resolve();
        }
        controller.close();
      },
    });
    return new Response(stream, { status: range ? 206 : 200 });
  }) as typeof fetch;
  return { fetchFn, stats };
}

beforeAll(async () => {
  worker = await controlPlane();
  // Several chunks of 64 KiB–1 MiB, so cuts land inside large and small chunks alike.
  await publishAs(worker, 'cuts', await buildLayersModel({ seed: 1, inputs: 256, hidden: 1024, outputs: 64 }));
  v1Paths = await recordChampion();
  await publishAs(worker, 'cuts', await buildLayersModel({ seed: 2, inputs: 256, hidden: 1024, outputs: 64 }));
  v2Paths = await recordChampion();
}, 120_000);
afterAll(() => worker?.dispose());

it(`${CUTS} randomized network cuts: 0 corrupt activations, ≤ one chunk re-downloaded per resume`, async () => {
  const largest = Math.max(...v2Manifest.chunks.map((c) => c.size));
  const total = v2Manifest.totalBytes;
  const ctxFor = (store: Awaited<ReturnType<typeof openStore>>, fetchFn: typeof fetch): SyncContext => ({
    edge: { endpoint: 'http://recorded', appKey: worker.appKey, fetch: fetchFn },
    store,
    trustRoot: worker.rootEnvelope,
    deviceId: 'd',
    caps: { maxTotalBytes: 64 * 2 ** 20, maxChunkBytes: 4 * 2 ** 20 },
    parallel: 4,
    now: () => new Date(),
  });
  let worstWaste = 0;
  let activatedDuringCut = 0;
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < CUTS; i++) {
    const store = await openStore(freshDbName());
    await syncModel(ctxFor(store, network(v1Paths).fetchFn), 'cuts'); // the device runs v1
    const cutAt = Math.floor(rand() * total);
    const first = network(v2Paths, cutAt);
    const cutResult = await syncModel(ctxFor(store, first.fetchFn), 'cuts').then(
      (r) => r,
      (e) => e,
    );
    if (!(cutResult instanceof Error)) activatedDuringCut++;
    const state = await store.state('cuts');
    // Never a half-downloaded activation: whatever is active is complete and verified.
    await assertCacheIntact(store);
    if (cutResult instanceof Error) expect(state.active?.version).toBe(1);
    const resume = network(v2Paths);
    const r = await syncModel(ctxFor(store, resume.fetchFn), 'cuts');
    expect(r.version).toBe(2);
    expect((await store.state('cuts')).active?.version).toBe(2);
    await assertCacheIntact(store);
    const waste = first.stats.chunkBytes + resume.stats.chunkBytes - total;
    worstWaste = Math.max(worstWaste, waste);
    expect(waste, `cut at ${cutAt}: ${waste} bytes fetched twice`).toBeLessThanOrEqual(largest);
    store.close();
  }
  console.log(
    `network cuts: ${CUTS} runs, ${activatedDuringCut} completed before the cut, worst re-downloaded ${worstWaste} bytes (largest chunk ${largest}, model ${total})`,
  );
}, 300_000);
