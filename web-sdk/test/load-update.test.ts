// load → predict equals plain TF.js; updates download only changed chunks; rollbacks download
// nothing; offline keeps serving. Real control plane in workerd, IndexedDB via fake-indexeddb.
import { DEFAULT_PACK_BYTES, planChunks, weightSpecsOf } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildGraphModel,
  buildLayersModel,
  withChangedTensor,
  type ModelArtifacts,
} from '../../test/fixtures/models.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import { SdkError } from '../src/errors.ts';
import { toArrays } from '../src/tensors.ts';
import { assertCacheIntact, controlPlane, publishAs, referencePredict, sdkClient, setChampion } from './helpers.ts';

let worker: TestWorker & { appKey: string };
let v1: ModelArtifacts;
let v2: ModelArtifacts;
const rows = [
  Array.from({ length: 256 }, (_, i) => Math.sin(i)),
  Array.from({ length: 256 }, (_, i) => Math.cos(i / 3)),
];

beforeAll(async () => {
  worker = await controlPlane();
  v1 = await buildLayersModel({ seed: 31, inputs: 256, hidden: 512, outputs: 3 });
  v2 = withChangedTensor(v1, 'out/kernel'); // a retrain that only touched the last layer
  await publishAs(worker, 'fraud', v1);
  await publishAs(worker, 'graph', await buildGraphModel({ seed: 8, inputs: 256, outputs: 2 }));
});
afterAll(() => worker?.dispose());

describe('web SDK in Node', () => {
  it('load → predict gives the same outputs as plain tf.loadLayersModel', async () => {
    const { client, store } = await sdkClient(worker);
    const progress: number[] = [];
    const model = await client.load('fraud', {
      onProgress: (p) => p.phase === 'download' && progress.push(p.loadedBytes),
    });
    expect(model).toMatchObject({ name: 'fraud', version: 1, backend: 'cpu' });
    expect(progress.at(-1)).toBe(v1.weightData.byteLength);
    const out = toArrays(await model.predict(rows));
    expect(out['out']).toEqual(await referencePredict(v1, rows));
    expect((await assertCacheIntact(store)).chunks).toBeGreaterThan(0);
    await client.close();
  });

  it('runs a graph model', async () => {
    const { client } = await sdkClient(worker);
    const model = await client.load('graph');
    const out = toArrays(await model.predict(rows));
    const env = (await (await worker.api('/v1/models/graph/versions/1')).json()) as { manifestDigest: string };
    expect(env.manifestDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(out)).toEqual(['y']);
    expect((out['y'] as number[][]).length).toBe(2);
    await client.close();
  });

  it('updates download only the changed chunk; a rollback downloads nothing; swaps only on reload', async () => {
    const { client, store } = await sdkClient(worker);
    const model = await client.load('fraud');
    await publishAs(worker, 'fraud', v2);
    const inflight = model.predict(rows); // a call in flight when reload starts finishes on v1
    const fetched: string[] = [];
    const r = await model.reload();
    const sync = (await client.status())['fraud'];
    expect(sync).toMatchObject({ version: 2, cachedVersion: 2, state: 'ready' });
    expect(toArrays(await inflight)).toEqual({ out: await referencePredict(v1, rows) });
    expect(r).toMatchObject({ version: 2, changed: true });
    // Exactly the chunk holding out/kernel (SPEC 5.1 packs it with its neighbours up to the target):
    // at most the changed bytes plus one chunk.
    const changedBytes = 512 * 3 * 4; // out/kernel
    const plan = planChunks(weightSpecsOf(v1.modelJson));
    const holding = plan.tensors
      .find((t) => t.name === 'out/kernel')!
      .chunks.reduce((n, i) => n + plan.chunks[i]!.size, 0);
    expect(r.downloadedBytes).toBe(holding);
    expect(r.downloadedBytes).toBeLessThanOrEqual(changedBytes + DEFAULT_PACK_BYTES);
    expect(model.version).toBe(2);
    expect(toArrays(await model.predict(rows))).toEqual({ out: await referencePredict(v2, rows) });
    const state = await store.state('fraud');
    expect(state.lastKnownGood?.version).toBe(1);

    await setChampion(worker, 'fraud', 1);
    const countingFetch: typeof fetch = (input, init) => (fetched.push(String(input)), fetch(input, init));
    const { client: c2 } = await sdkClient(worker, { store, fetch: countingFetch });
    const back = await c2.load('fraud');
    expect(back.version).toBe(1);
    expect(fetched.filter((u) => u.includes('/chunks/'))).toEqual([]);
    expect(fetched.filter((u) => u.includes('/manifests/'))).toEqual([]);
    await assertCacheIntact(store);
    await client.close();
    await c2.close();
    await setChampion(worker, 'fraud', 1);
  });

  it('a model of at most 64 KiB arrives inside the ticket bundle: one request, no manifest or chunk fetch', async () => {
    const tiny = await buildLayersModel({ seed: 33 });
    await publishAs(worker, 'tiny', tiny);
    const fetched: string[] = [];
    const { client, store } = await sdkClient(worker, {
      fetch: (input, init) => (fetched.push(new URL(String(input)).pathname), fetch(input, init)),
    });
    const model = await client.load('tiny');
    expect(fetched).toEqual(['/v1/edge/tickets/tiny']);
    expect(toArrays(await model.predict(rows.map((r) => r.slice(0, 4))))).toEqual({
      out: await referencePredict(
        tiny,
        rows.map((r) => r.slice(0, 4)),
      ),
    });
    await assertCacheIntact(store);
    await client.close();
  });

  it('offline: runs the cached model and says why it could not update', async () => {
    const { client, store } = await sdkClient(worker);
    await client.load('fraud');
    await client.close();
    const offline: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    const later = () => new Date(Date.now() + 3 * 86400_000);
    const { client: c2 } = await sdkClient(worker, { store, fetch: offline, now: later });
    const model = await c2.load('fraud');
    expect(model.version).toBe(1);
    expect(await model.predict(rows)).toHaveProperty('out');
    const status = await c2.status();
    expect(status['fraud']).toMatchObject({ version: 1, state: 'stale', lastError: { code: 'network' } });
    await c2.close();
  });

  it('with nothing cached and no network, load fails with a coded error', async () => {
    const offline: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    const { client } = await sdkClient(worker, { fetch: offline });
    const err = await client.load('fraud').catch((e) => e);
    expect(err).toBeInstanceOf(SdkError);
    expect(err.code).toBe('network');
    await client.close();
  });
});
