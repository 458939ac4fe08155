/**
 * npm run bench — prints one table, each figure beside its anchor measured in the same run:
 *   (a) edge resolve (signed ticket + manifest) throughput vs a trivial JSON route of the same Worker;
 *   (b) publish time of a ~20 MB model, and the bytes stored again when one tensor changes;
 *   and the other modules' rows (drift, release noise, SDK, …), each with its own anchor.
 * Loopback only; bounded in time (about 6 minutes in all). At the end it rewrites docs/benchmarks.md
 * with the table, each group's setup (setups.ts), the run's date and the machine (report.ts).
 */
import { buildLargeLayersModel, withChangedTensor } from '../fixtures/models.ts';
import { bundleWorker } from '../harness/bundle.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { chunkArtifacts, createModel, publish, putChunk, stageUpload } from '../harness/publish.ts';
import { startWorker } from '../harness/worker.ts';
import { closedLoop, get } from './load.ts';
import { accuracyBench } from './accuracy.ts';
import { driftBench } from './drift.ts';
import { noiseBench } from './noise.ts';
import { sdkBench } from './sdk.ts';
import { consoleBench } from './console.ts';
import { bridgeBench } from './bridge.ts';
import { imagePredictBench } from './image-predict.ts';
import { cliBench } from './cli.ts';
import { weightBench } from './weight.ts';
import { startupBench } from './startup.ts';
import { provenanceBench } from './provenance.ts';
import { chunkServeBench } from './chunk-serve.ts';
import { describeMachine, withVerdict, writeBenchmarks, type BenchRow, type BenchSection } from './report.ts';
import { SETUPS, type SetupKey } from './setups.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const startedAt = new Date();
const sections: BenchSection[] = [];
const section = (key: SetupKey, rows: BenchRow[]) => sections.push({ ...SETUPS[key], rows });
const notes: string[] = [];
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const bundle = bundleWorker();
console.log(`worker bundle: ${fmt(bundle.bytes / 1024)} KiB (wrangler dry run ${bundle.ms} ms)`);
const worker = await startWorker({
  http: true,
  vars: { EDGE_CACHE_TTL_MS: '5000', MAX_MODEL_BYTES: String(64 * 2 ** 20) },
});
try {
  // --- (b) publish a ~20 MB model, then republish with one tensor changed -----------------
  await createModel(worker, 'big');
  const big = await buildLargeLayersModel(20 * 2 ** 20, 1);
  // Step by step, to split transfer (stage + chunk PUTs) from CI (commit: re-hash, TF.js load, sign).
  let t = performance.now();
  const staged = await stageUpload(worker, 'big', big);
  for (const c of staged.chunks) await putChunk(worker, staged.body.uploadId, c.digest, c.bytes);
  const transferMs = performance.now() - t;
  const commitStarted = performance.now();
  const commitRes = await worker.api(`/v1/uploads/${staged.body.uploadId}/commit`, { method: 'POST' });
  const commitMs = performance.now() - commitStarted;
  const publishMs = performance.now() - t;
  const first = { res: commitRes, body: (await commitRes.json()) as Record<string, any>, chunks: staged.chunks.length };
  if (first.res.status !== 201) throw new Error(`publish failed: ${JSON.stringify(first.body)}`);
  const totalBytes = big.weightData.byteLength;

  const changed = withChangedTensor(big, big.modelJson.weightsManifest[0]!.weights[0]!.name);
  const before = new Set(chunkArtifacts(big).map((c) => c.digest));
  const changedChunks = chunkArtifacts(changed).filter((c) => !before.has(c.digest));
  t = performance.now();
  const second = await publish(worker, 'big', changed);
  const republishMs = performance.now() - t;
  if (second.res.status !== 201) throw new Error(`republish failed: ${JSON.stringify(second.body)}`);
  const storedAgain = changedChunks.reduce((n, c) => n + c.size, 0);
  const tensorBytes = (() => {
    const w = changed.modelJson.weightsManifest[0]!.weights[0]!;
    return w.shape.reduce((a, b) => a * b, 1) * 4;
  })();

  const publishRows: BenchRow[] = [];
  publishRows.push({
    bench: `publish ${fmt(totalBytes / 2 ** 20, 1)} MiB model, ${first.chunks} chunks: total`,
    value: `${fmt(publishMs)} ms`,
    anchor: `${fmt(transferMs)} ms transfer`,
    ratio: `${fmt(publishMs / transferMs, 2)}×`,
    target: '—',
  });
  publishRows.push({
    bench: '  of which commit (re-hash, TF.js load + checks, sign)',
    value: `${fmt(commitMs)} ms`,
    anchor: `${fmt(transferMs)} ms transfer`,
    ratio: `${fmt(commitMs / transferMs, 2)}×`,
    target: '—',
  });
  publishRows.push({
    bench: 'republish, one tensor changed: chunks uploaded',
    value: `${second.uploaded} of ${second.chunks}`,
    anchor: `${changedChunks.length} changed`,
    ratio: second.uploaded === changedChunks.length ? 'equal' : 'DIFFERENT',
    target: 'only that tensor',
  });
  publishRows.push({
    bench: 'republish, one tensor changed: bytes stored again',
    value: `${fmt(storedAgain / 1024)} KiB`,
    anchor: `${fmt(totalBytes / 1024)} KiB full`,
    ratio: `${fmt((100 * storedAgain) / totalBytes, 2)} %`,
    target: `tensor ${fmt(tensorBytes / 1024)} KiB`,
  });
  publishRows.push({
    bench: 'republish time',
    value: `${fmt(republishMs)} ms`,
    anchor: `${fmt(publishMs)} ms first`,
    ratio: `${fmt(republishMs / publishMs, 2)}×`,
    target: '—',
  });

  // --- (a) edge resolve vs trivial route ------------------------------------------------------
  await worker.api('/v1/models/big/aliases/champion', { method: 'PUT', json: { version: 2 } });
  const app = (await (
    await worker.api('/v1/apps', { method: 'POST', json: { name: 'bench', models: ['*'] } })
  ).json()) as { appKey: string };
  const headers = { 'x-modelfleet-app-key': app.appKey };
  const base = worker.url;
  const manifestDigest = second.body.manifestDigest as string;
  let device = 0;
  const warm = async (fn: () => Promise<boolean>) => closedLoop(fn, { concurrency: CONCURRENCY, seconds: 1 });
  const trivial = () => get(`${base}/v1/health`);
  const ticket = () => get(`${base}/v1/edge/tickets/big?device=d${device++ % 5000}`, headers);
  const resolve = async () => (await ticket()) && (await get(`${base}/v1/edge/manifests/${manifestDigest}`));
  await warm(trivial);
  await warm(resolve);
  const anchor = await closedLoop(trivial, { concurrency: CONCURRENCY, seconds: SECONDS });
  const tickets = await closedLoop(ticket, { concurrency: CONCURRENCY, seconds: SECONDS });
  const resolves = await closedLoop(resolve, { concurrency: CONCURRENCY, seconds: SECONDS });
  const errs = anchor.errors + tickets.errors + resolves.errors;
  const edgeRows: BenchRow[] = [
    {
      bench: 'trivial JSON route GET /v1/health (anchor)',
      value: `${fmt(anchor.perSecond)} req/s`,
      anchor: '—',
      ratio: '1.00×',
      target: '—',
    },
    {
      bench: 'edge ticket (app key, alias, signed ticket)',
      value: `${fmt(tickets.perSecond)} req/s`,
      anchor: `${fmt(anchor.perSecond)} req/s`,
      ratio: `${fmt(tickets.perSecond / anchor.perSecond, 2)}×`,
      target: '≥ 0.5×',
    },
    {
      bench: 'edge resolve = ticket + manifest (2 requests)',
      value: `${fmt(resolves.perSecond * 2)} req/s`,
      anchor: `${fmt(anchor.perSecond)} req/s`,
      ratio: `${fmt((resolves.perSecond * 2) / anchor.perSecond, 2)}×`,
      target: '≥ 0.5×',
    },
    {
      bench: '  latency p50 / p99 (resolve pair)',
      value: `${fmt(resolves.p50ms, 1)} / ${fmt(resolves.p99ms, 1)} ms`,
      anchor: `${fmt(anchor.p50ms, 1)} / ${fmt(anchor.p99ms, 1)} ms`,
      ratio: '—',
      target: '—',
    },
  ];
  section('edge', edgeRows);
  section('publish', publishRows);
  if (errs > 0) {
    console.log(`WARNING: ${errs} failed requests during load`);
    notes.push(`${errs} requests failed during the edge load; the throughput rows count them with the rest.`);
  }
  section('sdk', await sdkBench(worker, app.appKey));
  section('weight', weightBench());
  section('drift', await driftBench(worker, app.appKey, SECONDS, CONCURRENCY));
  section('accuracy', await accuracyBench());
  section('noise', await noiseBench());
  section('imagePredict', await imagePredictBench(worker, app.appKey));
  section('bridge', await bridgeBench(worker, app.appKey));
  section('console', await consoleBench());
  section('cli', await cliBench());
  section('startup', await startupBench());
  section('chunkServe', await chunkServeBench(SECONDS));
  section('provenance', await provenanceBench(SECONDS, CONCURRENCY));

  // The same ticket route with the isolate cache off: every request reads D1 and signs.
  const cold = await startWorker({ http: true, vars: { EDGE_CACHE_TTL_MS: '0' } });
  try {
    await createModel(cold, 'small');
    const small = await publish(cold, 'small', await buildLayersModel({ seed: 1 }));
    await cold.api('/v1/models/small/aliases/champion', { method: 'PUT', json: { version: small.body.version } });
    const coldApp = (await (
      await cold.api('/v1/apps', { method: 'POST', json: { name: 'bench', models: ['*'] } })
    ).json()) as { appKey: string };
    const coldTicket = () =>
      get(`${cold.url}/v1/edge/tickets/small?device=d${device++ % 5000}`, { 'x-modelfleet-app-key': coldApp.appKey });
    await closedLoop(coldTicket, { concurrency: CONCURRENCY, seconds: 1 });
    const uncached = await closedLoop(coldTicket, { concurrency: CONCURRENCY, seconds: SECONDS });
    edgeRows.splice(2, 0, {
      bench: 'edge ticket, isolate cache off (D1 read + ECDSA sign each)',
      value: `${fmt(uncached.perSecond)} req/s`,
      anchor: `${fmt(anchor.perSecond)} req/s`,
      ratio: `${fmt(uncached.perSecond / anchor.perSecond, 2)}×`,
      target: '(reference)',
    });
  } finally {
    await cold.dispose();
  }
} finally {
  await worker.dispose();
}

console.log(
  `\nmodelfleet bench — Miniflare/workerd on loopback, ${CONCURRENCY} concurrent clients, ${SECONDS} s per route\n`,
);
console.table(sections.flatMap((s) => s.rows.map(withVerdict)));
const written = writeBenchmarks({ startedAt, finishedAt: new Date(), machine: describeMachine(), sections, notes });
console.log(`\nwritten: ${written}`);
