/**
 * @module demo/fleet
 * The demo's fleet: SDK clients that run the fraud model on a transaction stream, the way an app
 * would — the published npm package (`@modelfleet/web-sdk`, TF.js CPU engine inline, IndexedDB
 * from fake-indexeddb in Node), each with its own device id and store. Every tick a device scores
 * a few transactions, then reports what the bank later learned (`model.feedback(label)`); the SDK
 * itself sketches inputs, records health, sends window and step uploads and polls its ticket,
 * so adoption of an update, rollouts and drift all come from the product's own code paths.
 * A device can be taken offline (its fetch fails) and brought back.
 */
import 'fake-indexeddb/auto';
import { type Envelope } from '@modelfleet/protocol';
import { type LoadedModel, createClient, openStore, toArray } from '@modelfleet/web-sdk';
import { createEngine } from '@modelfleet/web-sdk/engine';
import { type Regime, transactions } from './transactions.ts';

export interface FleetOptions {
  endpoint: string;
  appKey: string;
  root: Envelope;
  model: string;
  devices: number;
  /** Ticket polling period (ms): how soon a device sees a rollout step or a new champion. */
  pollMs: number;
  /** Transactions each device scores per tick. */
  perTick: number;
  seed: number;
  /** Devices set up at once (each downloads and verifies the model). */
  concurrency?: number;
}

type Client = Awaited<ReturnType<typeof createClient>>;

/** `bytes`: every response body fetched; `modelBytes`: the manifest and chunk bodies alone (what an update costs). */
interface Device {
  id: string;
  client: Client;
  model: LoadedModel;
  offline: boolean;
  seed: number;
  bytes: number;
  modelBytes: number;
}

const MODEL_PATH = /\/v1\/edge\/(manifests|chunks)\//;

/**
 * A ticket bundle that brought a manifest (SPEC 1.6: absent when the device already holds it), and
 * with a small model its chunks: the update itself, delivered with the ticket in one answer.
 */
function carriesManifest(url: string, status: number, body: ArrayBuffer): boolean {
  if (status !== 200 || !/\/v1\/edge\/tickets\/[^?]+\?.*\bbundle=1/.test(url)) return false;
  try {
    return (JSON.parse(new TextDecoder().decode(body)) as { manifest?: unknown }).manifest !== undefined;
  } catch {
    return false;
  }
}

/**
 * fetch that reads each response to its end before the SDK sees it (keep-alive connections stay
 * usable) and fails while the device is offline, as a phone in a tunnel would.
 */
function deviceFetch(device: { offline: boolean; bytes: number; modelBytes: number }): typeof fetch {
  return async (input, init) => {
    if (device.offline) throw new TypeError('fetch failed: the device is offline');
    // A fresh connection per request: wrangler dev closes idle keep-alive sockets after a few
    // seconds, and a reused one then fails mid-request (PLATFORM.md; scripts/start/api.mjs).
    const headers0 = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers0.set('connection', 'close');
    const res = await fetch(input, { ...init, headers: headers0 });
    const body = [101, 204, 205, 304].includes(res.status) ? null : await res.arrayBuffer();
    device.bytes += body?.byteLength ?? 0;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (body && (MODEL_PATH.test(url) || carriesManifest(url, res.status, body))) device.modelBytes += body.byteLength;
    const headers = new Headers(res.headers);
    // fetch already decoded a compressed body: its encoding and length no longer describe these bytes.
    if (headers.has('content-encoding')) {
      headers.delete('content-encoding');
      headers.delete('content-length');
    }
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}

export interface Fleet {
  readonly devices: readonly Device[];
  /** Every device scores `perTick` transactions of `regime` and gives the true labels as feedback. */
  tick(regime: Regime): Promise<{ scored: number; correct: number }>;
  /** Versions the devices run now: version → devices. */
  versions(): Map<number, number>;
  /** Takes a device offline (or back online). */
  setOffline(id: string, offline: boolean): void;
  close(): Promise<void>;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const devices: Device[] = [];
  let next = 0;
  const setUp = async () => {
    while (next < o.devices) {
      const i = next++;
      const state = { offline: false, bytes: 0, modelBytes: 0 };
      const client = await createClient({
        endpoint: o.endpoint,
        appKey: o.appKey,
        trustRoot: o.root,
        deviceId: `demo-device-${i}`,
        storage: await openStore(`demo-${o.seed}-${i}`),
        runner: createEngine(),
        backends: ['cpu'],
        pollInterval: o.pollMs,
        fetch: deviceFetch(state),
      });
      const model = await client.load(o.model);
      devices[i] = Object.assign(state, { id: `demo-device-${i}`, client, model, seed: o.seed * 100_003 + i });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 8 }, setUp));
  let round = 0;
  return {
    devices,
    async tick(regime) {
      round++;
      let scored = 0;
      let correct = 0;
      await Promise.all(
        devices.map(async (d) => {
          if (d.offline) return;
          // What an app does (web-sdk README): a newer version the background poll verified and
          // cached waits for reload(), which swaps it in between calls.
          if ((await d.client.status())[o.model]?.state === 'update-ready') await d.model.reload();
          const rows = transactions(o.perTick, { seed: d.seed + round * 7919, regime });
          const outputs = await d.model.predict(rows.map((r) => r.x));
          const out = toArray(Object.values(outputs)[0]!) as number[][]; // one output: P(fraud) per row
          rows.forEach((r, k) => {
            d.model.feedback(r.y, out[k]);
            scored++;
            if ((out[k]![0]! >= 0.5 ? 1 : 0) === r.y) correct++;
          });
        }),
      );
      return { scored, correct };
    },
    versions() {
      const m = new Map<number, number>();
      for (const d of devices) m.set(d.model.version, (m.get(d.model.version) ?? 0) + 1);
      return m;
    },
    setOffline(id, offline) {
      const d = devices.find((x) => x.id === id);
      if (d) d.offline = offline;
    },
    async close() {
      await Promise.all(devices.map((d) => d.client.close().catch(() => {})));
    },
  };
}
