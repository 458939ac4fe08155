/**
 * @module bench/sdk-cold
 * The cold-load rows of `npm run bench`: for movenet-lightning (the largest real graph model,
 * 4.4 MiB) and the demo model (examples/fraud-model, 900 bytes), the SDK's cold load against plain
 * tf.loadGraphModel / tf.loadLayersModel of the same files from the static server, each run in a
 * fresh browser context, on loopback and under emulated network (40 ms RTT, 20 Mbit/s down),
 * median of ROUNDS; the warm load from IndexedDB; requests per cold load; where the SDK's time
 * goes; and the bytes a device downloads when movenet's last layer changes.
 */
import 'fake-indexeddb/auto';
import { DEFAULT_PACK_BYTES, planChunks, weightSpecsOf } from '@modelfleet/protocol';
import { createClient } from '../../web-sdk/src/client.ts';
import { createEngine } from '../../web-sdk/src/engine.ts';
import { openStore } from '../../web-sdk/src/store.ts';
import { launchChromium } from '../browser/chromium.ts';
import { startStaticServer } from '../browser/server.ts';
import { withRetrainedTensors } from '../fixtures/models.ts';
import { readRealModel } from '../fixtures/real-models.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';
import {
  type ColdModel,
  type Network,
  coldSeries,
  fraudModel,
  lastLayerInWeightOrder,
  median,
  phaseSteps,
} from './cold-load.ts';
import type { Row } from './sdk.ts';

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 5);
const TARGETS: Record<Network, number> = { loopback: 1.5, emulated: 1.1 };
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ratio = (a: number, b: number) => `${fmt(a / b, 2)}×`;

async function publishChampion(worker: TestWorker, m: ColdModel, meta: Record<string, unknown> = {}) {
  await createModel(worker, m.name);
  const weightData = new Uint8Array(Buffer.concat(Object.values(m.weightFiles)));
  const r = await publish(
    worker,
    m.name,
    { modelJson: m.modelJson as never, weightData },
    { format: m.format, ...meta },
  );
  if (r.res.status !== 201) throw new Error(`publish ${m.name}: ${JSON.stringify(r.body)}`);
  await worker.api(`/v1/models/${m.name}/aliases/champion`, { method: 'PUT', json: { version: r.body.version } });
  return { chunks: r.chunks, weightData };
}

/** movenet's last layer in weight order changed, republished; what a device running v1 downloads. */
async function lastLayerUpdate(worker: TestWorker, appKey: string, m: ColdModel, weightData: Uint8Array): Promise<Row> {
  const store = await openStore(`bench-update-${Date.now()}`);
  const client = await createClient({
    endpoint: worker.url,
    appKey,
    trustRoot: worker.rootEnvelope,
    storage: store,
    runner: createEngine(),
    backends: ['cpu'],
    pollInterval: 0,
    telemetry: false,
  });
  const model = await client.load(m.name);
  const names = lastLayerInWeightOrder(weightSpecsOf(m.modelJson as never));
  const v2 = withRetrainedTensors({ modelJson: m.modelJson as never, weightData }, names);
  const changed = planChunks(weightSpecsOf(m.modelJson as never))
    .tensors.filter((t) => names.includes(t.name))
    .reduce((n, t) => n + t.size, 0);
  const r = await publish(worker, m.name, v2, { format: m.format });
  await worker.api(`/v1/models/${m.name}/aliases/champion`, { method: 'PUT', json: { version: r.body.version } });
  const update = await model.reload();
  await client.close();
  const bound = changed + DEFAULT_PACK_BYTES;
  return {
    bench: `SDK update, ${m.name}: last layer in weight order changed (${names.length} tensors)`,
    value: `${fmt(update.downloadedBytes / 1024, 1)} KiB`,
    anchor: `changed ${fmt(changed / 1024, 1)} KiB of ${fmt(weightData.byteLength / 1024)} KiB`,
    ratio: update.downloadedBytes <= bound ? 'within bound' : 'OVER bound',
    target: `≤ changed + one chunk (${fmt(bound / 1024)} KiB)`,
  };
}

export async function coldLoadBench(worker: TestWorker, appKey: string): Promise<Row[]> {
  const rows: Row[] = [];
  const mv = readRealModel('movenet-lightning');
  const movenet: ColdModel = {
    name: 'movenet-lightning',
    format: 'tfjs-graph',
    modelJson: mv.modelJson,
    weightFiles: mv.weightFiles,
  };
  const fraud = fraudModel();
  const published = new Map([
    [movenet.name, await publishChampion(worker, movenet)],
    [fraud.name, await publishChampion(worker, fraud, fraud.meta)],
  ]);
  const site = await startStaticServer({ cacheLibraries: true });
  const browser = await launchChromium();
  const cfg = { endpoint: worker.url, appKey, trustRoot: worker.rootEnvelope };
  const phases: Row[] = [];
  try {
    for (const m of [movenet, fraud]) {
      const size =
        m === movenet
          ? `${fmt(mv.weightData.byteLength / 2 ** 20, 1)} MiB graph`
          : `${fmt(published.get(m.name)!.weightData.byteLength)} B layers`;
      for (const network of ['loopback', 'emulated'] as const) {
        const s = await coldSeries(browser, site, m, cfg, network, ROUNDS);
        const plain = median(s.plain.map((r) => r.ms));
        const sdk = median(s.sdkReady.map((r) => r.ms));
        const plainNav = median(s.plain.map((r) => r.fromNavigation));
        const sdkNav = median(s.sdkNav.map((r) => r.fromNavigation));
        const warm = median(s.sdkReady.map((r) => r.warmMs!));
        const loader = m.format === 'tfjs-graph' ? 'tf.loadGraphModel' : 'tf.loadLayersModel';
        rows.push(
          {
            bench: `SDK cold load, ${m.name} (${size}), ${network}: libraries loaded, fresh context`,
            value: `${fmt(sdk)} ms`,
            anchor: `${fmt(plain)} ms plain ${loader}`,
            ratio: ratio(sdk, plain),
            target: `≤ ${TARGETS[network]}×`,
          },
          {
            bench: '  same, from navigation start (page, scripts, worker, load)',
            value: `${fmt(sdkNav)} ms`,
            anchor: `${fmt(plainNav)} ms`,
            ratio: ratio(sdkNav, plainNav),
            target: '—',
          },
          {
            bench: '  SDK warm load from IndexedDB (ticket check + load)',
            value: `${fmt(warm)} ms`,
            anchor: `${fmt(plain)} ms plain cold`,
            ratio: ratio(warm, plain),
            target: '≤ 1.0×',
          },
        );
        if (network === 'loopback') {
          rows.push({
            bench: '  HTTP requests per cold load (chunks in the manifest)',
            value: `${median(s.sdkReady.map((r) => r.requests))} (${published.get(m.name)!.chunks})`,
            anchor: `${median(s.plain.map((r) => r.requests))} plain`,
            ratio: '—',
            target: '—',
          });
        }
        phases.push({
          bench: `  where the SDK's cold load goes, ${m.name}, ${network} (ms)`,
          value: phaseSteps(s.sdkReady),
          anchor: `total ${fmt(sdk)} ms`,
          ratio: '—',
          target: '—',
        });
      }
    }
  } finally {
    await browser.close();
    await site.close();
  }
  rows.push(...phases);
  rows.push(await lastLayerUpdate(worker, appKey, movenet, published.get(movenet.name)!.weightData));
  return rows;
}
