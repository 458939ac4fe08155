/**
 * @module drift-real/fleet
 * Drives a data set through the product the way its owner and its users would: the baseline from
 * `modelfleet baseline` (the CLI, in-process) on the training rows and the model's predictions on
 * them, a publish with that baseline, then N real web-SDK clients in Node (fake-indexeddb, the
 * TF.js CPU engine), each loading the model over HTTP, predicting on rows sampled from a
 * population, and uploading its sketch through the edge to the window's Durable Object; the
 * window is then closed through the API and its verdict read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Baseline, type Envelope } from '@modelfleet/protocol';
import { seededUniform } from '@modelfleet/protocol/testing';
import { createClient } from '../../web-sdk/src/client.ts';
import { createEngine } from '../../web-sdk/src/engine.ts';
import { openStore } from '../../web-sdk/src/store.ts';
import { freshDbName, setChampion } from '../../web-sdk/test/helpers.ts';
import { runCli } from '../harness/cli.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';
import type { DataSet } from './datasets.ts';
import { trainModel } from './model.ts';

export type Fleet = TestWorker & { appKey: string };

/**
 * `modelfleet baseline train.jsonl --schema schema.json --predictions val.jsonl --out baseline.json`
 * on the data set's training rows and the model's labelled predictions on them, in a scratch
 * directory, exactly as a user would run it.
 */
export async function cliBaseline(worker: Fleet, ds: DataSet, predictions: number[][]): Promise<Baseline> {
  const dir = mkdtempSync(join(tmpdir(), `mf-drift-real-${ds.id}-`));
  try {
    const lines = ds.baseline.map((r) => JSON.stringify(Object.fromEntries(ds.features.map((f, i) => [f.name, r[i]]))));
    writeFileSync(join(dir, 'train.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'schema.json'), JSON.stringify({ features: ds.features }));
    // With each row's true label, so the baseline carries a reliability table and label-free accuracy is calibrated (and can alarm).
    writeFileSync(
      join(dir, 'val.jsonl'),
      predictions.map((p, i) => JSON.stringify({ probabilities: p, label: ds.labels[i] })).join('\n') + '\n',
    );
    const r = await runCli(
      worker,
      dir,
      'baseline',
      'train.jsonl',
      '--schema',
      'schema.json',
      '--predictions',
      'val.jsonl',
      '--out',
      'baseline.json',
    );
    if (r.code !== 0) throw new Error(`modelfleet baseline failed (${r.code}): ${r.err}`);
    return JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as Baseline;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Trains the data set's model, builds its baseline with the CLI and publishes it (as champion) under each name. */
export async function publishDataSet(
  worker: Fleet,
  ds: DataSet,
  names: string[],
): Promise<{ baseline: Baseline; trainingAccuracy: number }> {
  const { artifacts, predictions } = await trainModel(ds.baseline, ds.labels, ds.classes.length);
  const baseline = await cliBaseline(worker, ds, predictions);
  for (const name of names) {
    await createModel(worker, name);
    const r = await publish(worker, name, artifacts, { format: artifacts.format, baseline });
    if (r.res.status !== 201) throw new Error(`publish ${name}: ${JSON.stringify(r.body)}`);
    await setChampion(worker, name, r.body.version);
  }
  const correct = predictions.filter((p, i) => p.indexOf(Math.max(...p)) === ds.labels[i]).length;
  return { baseline, trainingAccuracy: correct / predictions.length };
}

/**
 * fetch that reads each response to its end before the SDK sees it. The outbox cancels the body of
 * an upload's acknowledgement, which resets the keep-alive connection mid-response, and workerd
 * logs a "Connection reset by peer" stack for each (dozens per fleet: noise, not a failure).
 */
const drainingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const body = [101, 204, 205, 304].includes(res.status) ? null : await res.arrayBuffer();
  const headers = new Headers(res.headers);
  // fetch already decoded a compressed body: its encoding and length no longer describe these bytes.
  if (headers.has('content-encoding')) {
    headers.delete('content-encoding');
    headers.delete('content-length');
  }
  return new Response(body, { status: res.status, statusText: res.statusText, headers });
};

/** `count` rows drawn without replacement (a device sees distinct records), seeded. */
export function sampleRows(rows: number[][], count: number, random: () => number): number[][] {
  const idx = rows.map((_, i) => i);
  const n = Math.min(count, rows.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).map((i) => rows[i]!);
}

/**
 * `devices` SDK clients, `concurrency` at a time, each with its own IndexedDB and engine: load
 * `model`, predict on `rowsPerDevice` rows sampled from `rows` (one call, as a batch), flush the
 * window's sketch and health record, close. Returns how many uploaded a sketch.
 */
export async function runFleet(
  worker: Fleet,
  model: string,
  rows: number[][],
  opts: { devices: number; rowsPerDevice: number; seed: number; now: Date; concurrency?: number },
): Promise<number> {
  const random = seededUniform(opts.seed);
  const batches = Array.from({ length: opts.devices }, () => sampleRows(rows, opts.rowsPerDevice, random));
  let next = 0;
  let sent = 0;
  const device = async (d: number) => {
    const client = await createClient({
      endpoint: worker.url,
      appKey: worker.appKey,
      trustRoot: worker.rootEnvelope as Envelope,
      storage: await openStore(freshDbName()),
      runner: createEngine(),
      backends: ['cpu'],
      pollInterval: 0,
      deviceId: `${model}-device-${d}`,
      now: () => opts.now,
      fetch: drainingFetch,
    });
    try {
      const m = await client.load(model);
      await m.predict(batches[d]!);
      // observe() runs off the inference path (setTimeout 0): let it record before the flush.
      await new Promise((r) => setTimeout(r, 0));
      const stats = await client.flush();
      if (stats.sent < 2)
        throw new Error(`device ${d} of ${model}: sent ${stats.sent} of 2 uploads (${JSON.stringify(stats)})`);
      sent++;
    } finally {
      await client.close();
    }
  };
  const lane = async () => {
    while (next < opts.devices) await device(next++);
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, lane));
  return sent;
}

/** Closes the day's window through the API (operator token) and returns the close response. */
export async function closeWindow(worker: Fleet, model: string, window: number): Promise<any> {
  const res = await worker.api(`/v1/models/${model}/versions/1/sketches/${window}/close`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`close ${model}: ${res.status} ${await res.text()}`);
  return res.json();
}
