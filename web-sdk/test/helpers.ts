/**
 * Shared pieces of the SDK's Node suites: a control plane in workerd with published models,
 * an inline runner, cache integrity checks, and fetch wrappers that fault the network.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import type { Envelope } from '@modelfleet/protocol';
import * as tf from '@tensorflow/tfjs';
import { type ModelArtifacts } from '../../test/fixtures/models.ts';
import { memoryHandler } from '../../test/fixtures/model-artifacts.ts';
import { createModel, publish } from '../../test/harness/publish.ts';
import { type TestWorker, startWorker } from '../../test/harness/worker.ts';
import { createClient, type ClientOptions } from '../src/client.ts';
import { createEngine } from '../src/engine.ts';
import { type ModelStore, openStore } from '../src/store.ts';

let dbCounter = 0;
export const freshDbName = () => `mf-test-${process.pid}-${++dbCounter}`;

/** `vars`: Worker settings (the real-data drift suite lowers DRIFT_MIN_DEVICES for its fast variant). */
export async function controlPlane(vars?: Record<string, string>): Promise<TestWorker & { appKey: string }> {
  const worker = await startWorker({ http: true, ...(vars ? { vars } : {}) });
  const res = await worker.api('/v1/apps', { method: 'POST', json: { name: 'sdk-tests', models: ['*'] } });
  return Object.assign(worker, { appKey: ((await res.json()) as { appKey: string }).appKey });
}

export async function publishAs(
  worker: TestWorker,
  name: string,
  a: ModelArtifacts,
  champion = true,
): Promise<{ version: number; digest: string }> {
  await createModel(worker, name).catch(() => {});
  const r = await publish(worker, name, a, { format: a.format });
  if (r.res.status !== 201) throw new Error(JSON.stringify(r.body));
  if (champion) await setChampion(worker, name, r.body.version);
  return { version: r.body.version, digest: r.body.manifestDigest };
}

export async function setChampion(worker: TestWorker, name: string, version: number): Promise<void> {
  const res = await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version } });
  if (res.status !== 200) throw new Error(await res.text());
}

export async function sdkClient(
  worker: TestWorker & { appKey: string },
  extra: Partial<ClientOptions> & { store?: ModelStore } = {},
) {
  const store = extra.store ?? (await openStore(freshDbName()));
  const client = await createClient({
    endpoint: worker.url,
    appKey: worker.appKey,
    trustRoot: worker.rootEnvelope as Envelope,
    storage: store,
    runner: createEngine(),
    backends: ['cpu'],
    pollInterval: 0,
    ...extra,
  });
  return { client, store };
}

/** Every stored chunk hashes to its key, and every active/last-known-good manifest is complete. */
export async function assertCacheIntact(store: ModelStore): Promise<{ chunks: number }> {
  const keys = await store.db.getAllKeys('chunks');
  for (const key of keys) {
    const bytes = new Uint8Array((await store.getChunk(key))!);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== key) throw new Error(`cache corrupted: chunk ${key} hashes to ${digest}`);
  }
  for (const state of await store.db.getAll('models')) {
    for (const ref of [state.active, state.lastKnownGood]) {
      if (!ref) continue;
      const m = await store.getManifest(ref.digest);
      if (!m) throw new Error(`cache corrupted: manifest ${ref.digest} of ${state.model} missing`);
      const missing = await store.missing(m.chunks);
      if (missing.length > 0)
        throw new Error(`cache corrupted: ${state.model} v${ref.version} lacks ${missing.length} chunks`);
    }
  }
  return { chunks: keys.length };
}

/** The reference: plain TF.js loading the same artifacts, predicting on the main thread. */
export async function referencePredict(a: ModelArtifacts, rows: number[][]): Promise<unknown> {
  const handler = memoryHandler(a);
  if (a.format === 'tfjs-layers') {
    const m = await tf.loadLayersModel(handler);
    const y = m.predict(tf.tensor2d(rows)) as tf.Tensor;
    const out = await y.array();
    m.dispose();
    return out;
  }
  const m = await tf.loadGraphModel(handler);
  const y = m.execute({ [m.inputs[0]!.name]: tf.tensor2d(rows) }) as tf.Tensor;
  const out = await y.array();
  m.dispose();
  return out;
}

type Rewrite = (url: URL, res: Response) => Promise<Response> | Response;

/** A fetch that passes through, letting a test rewrite responses of matching paths. */
export function faultyFetch(rules: { match: RegExp; rewrite: Rewrite }[]): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const res = await fetch(input, init);
    const rule = rules.find((r) => r.match.test(url.pathname));
    return rule ? rule.rewrite(url, res) : res;
  }) as typeof fetch;
}
