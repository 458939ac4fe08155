/**
 * @module bench/drift
 * Drift figures beside their anchors from the same run: upload bytes for 20 features vs the raw
 * values they summarise; device-side sketch cost per predict vs the predict itself; decode +
 * merge throughput of uploads (the Durable Object's work per upload, one core) and the whole
 * ingest path through the Worker and the real Durable Object vs the trivial route.
 */
import {
  type SketchUpload,
  MAX_SAMPLES,
  addUpload,
  decodeUpload,
  emptyAggregate,
  encodeUpload,
  sketchLayout,
  sketchNumeric,
  windowOf,
} from '@modelfleet/protocol';
import { createSketcher } from '../../web-sdk/src/telemetry/sketcher.ts';
import { createEngine } from '../../web-sdk/src/engine.ts';
import { normalBaseline } from '../sim/drift-sim.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';
import { closedLoop, get } from './load.ts';
import { PROOF_HEADER, proofMinter } from '../harness/proofs.ts';

export interface Row {
  bench: string;
  value: string;
  anchor: string;
  ratio: string;
  target: string;
}
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function driftBench(
  worker: TestWorker,
  appKey: string,
  seconds: number,
  concurrency: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  const F = 20;
  const baseline = normalBaseline(F);
  const layout = await sketchLayout(baseline);
  const window = windowOf(new Date());
  const values = (seed: number) => Array.from({ length: MAX_SAMPLES }, (_, i) => Math.sin(seed * 31 + i * 7.3) * 1.3);
  const upload = (seed: number): SketchUpload => ({
    schemaDigest: layout.schemaDigest,
    window,
    features: baseline.features.map((f, j) =>
      sketchNumeric(values(seed + j), (f as { edges: number[] }).edges, (f as { pit?: [number, number][] }).pit),
    ),
  });
  const bytes = encodeUpload(layout, upload(1));
  rows.push({
    bench: `sketch upload, ${F} numeric features`,
    value: `${bytes.length} B`,
    anchor: `${F * MAX_SAMPLES * 4} B raw float32 sample`,
    ratio: `${fmt((100 * bytes.length) / (F * MAX_SAMPLES * 4), 1)} %`,
    target: '≤ 1 KB',
  });

  // Device side: what the SDK adds per predict (observe the rows) and per window (build), vs a
  // batch-1 predict of a 20-input model on TF.js's CPU backend, same process.
  const artifacts = await buildLayersModel({ seed: 5, inputs: F, hidden: 64, outputs: 2 });
  const engine = createEngine();
  await engine.init(['cpu']);
  const handle = await engine.load({
    format: 'tfjs-layers',
    model: 'sketchcost',
    version: 1,
    digest: '',
    modelJson: artifacts.modelJson as unknown as Record<string, unknown>,
    weightSpecs: artifacts.modelJson.weightsManifest.flatMap((m) => m.weights),
    weightData: artifacts.weightData.slice().buffer as ArrayBuffer,
    backends: ['cpu'],
    io: {
      inputs: [{ name: 'x', dtype: 'float32', shape: [null, F] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }],
    },
  });
  const row = [Array.from({ length: F }, (_, i) => Math.sin(i))];
  const predictTimes: number[] = [];
  for (let i = 0; i < 520; i++) {
    const t = performance.now();
    await engine.predict(handle, [
      { kind: 'tensor', name: 'x', dtype: 'float32', shape: [1, F], data: Float32Array.from(row[0]!) },
    ]);
    if (i >= 20) predictTimes.push(performance.now() - t);
  }
  const predictMs = median(predictTimes);
  const sketcher = createSketcher(baseline, layout, window);
  const calls = 200_000;
  let t = performance.now();
  for (let i = 0; i < calls; i++) sketcher.observe(row);
  const observeMs = (performance.now() - t) / calls;
  t = performance.now();
  for (let i = 0; i < 50; i++) sketcher.build(); // warm the JIT as a long-lived page would be
  t = performance.now();
  for (let i = 0; i < 200; i++) sketcher.build();
  const buildMs = (performance.now() - t) / 200;
  rows.push({
    bench: 'device sketch cost per predict (observe the row)',
    value: `${fmt(observeMs * 1000, 2)} µs`,
    anchor: `${fmt(predictMs * 1000, 0)} µs predict, batch 1, 20 inputs, CPU`,
    ratio: `${fmt((100 * observeMs) / predictMs, 2)} %`,
    target: '≤ 2 %',
  });
  rows.push({
    bench: '  plus once per window: build the sketch (64 values × 20 features)',
    value: `${fmt(buildMs * 1000, 0)} µs`,
    anchor: `${fmt(predictMs * 1000, 0)} µs predict`,
    ratio: `${fmt(buildMs / predictMs, 2)} predicts`,
    target: '—',
  });

  // The Durable Object's work per upload: decode + validate + add (one core, no storage).
  const encoded = Array.from({ length: 1000 }, (_, i) => encodeUpload(layout, upload(i)));
  const agg = emptyAggregate(layout, window);
  for (let i = 0; i < 20_000; i++) addUpload(agg, decodeUpload(layout, encoded[i % encoded.length]!)); // JIT warm-up, as in a long-lived object
  const n = 100_000;
  t = performance.now();
  for (let i = 0; i < n; i++) addUpload(agg, decodeUpload(layout, encoded[i % encoded.length]!));
  const mergePerSecond = n / ((performance.now() - t) / 1000);
  rows.push({
    bench: `decode + validate + merge, ${F} features (one core)`,
    value: `${fmt(mergePerSecond / 1000, 0)}k uploads/s`,
    anchor: '100k uploads/s',
    ratio: `${fmt(mergePerSecond / 100_000, 2)}×`,
    target: '≥ 1.00×',
  });

  // The whole ingest path: edge validation + the real Durable Object (transaction, replay set).
  await createModel(worker, 'driftbench');
  const p = await publish(worker, 'driftbench', await buildLayersModel({ seed: 6, inputs: F }), { baseline });
  if (p.res.status !== 201) throw new Error(`publish driftbench: ${JSON.stringify(p.body)}`);
  let device = 0;
  const proofOf = await proofMinter(worker.db, worker.ticketSecret, appKey);
  const ingest = async () => {
    // Each device carries the proof its ticket would (SPEC 11.1), minted as the ticket route does.
    const id = `bench-${device++}`;
    const res = await fetch(`${worker.url}/v1/edge/sketches/driftbench/1?device=${id}`, {
      method: 'POST',
      body: bytes as unknown as BodyInit,
      headers: {
        'content-type': 'application/octet-stream',
        'x-modelfleet-app-key': appKey,
        [PROOF_HEADER]: await proofOf('driftbench', 1, id),
      },
    });
    await res.arrayBuffer();
    return res.status === 202;
  };
  const trivial = () => get(`${worker.url}/v1/health`);
  await closedLoop(ingest, { concurrency, seconds: 1 });
  const anchor = await closedLoop(trivial, { concurrency, seconds });
  const ingested = await closedLoop(ingest, { concurrency, seconds });
  rows.push({
    bench: 'sketch ingest through the Worker into the Durable Object',
    value: `${fmt(ingested.perSecond, 0)} uploads/s`,
    anchor: `${fmt(anchor.perSecond, 0)} req/s trivial route`,
    ratio: `${fmt(ingested.perSecond / anchor.perSecond, 2)}×`,
    target: ingested.errors ? `${ingested.errors} ERRORS` : '—',
  });
  return rows;
}
