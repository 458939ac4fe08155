/**
 * @module bench/chunk-serve
 * What verifying stored chunks at the edge costs (issue 15: the edge never serves bytes it has not
 * hashed). Two Workers with the same model: one as deployed, where an isolate hashes a stored
 * chunk on its first read and then streams it (verdict remembered for EDGE_VERIFY_TTL_MS), and one
 * with EDGE_VERIFY_TTL_MS=0, where every read buffers and hashes the whole chunk — the cost a
 * first read pays. The cached path is the pre-verification code path plus one Map lookup; the
 * run before this change measured it directly (docs/delivery.md). A 256 KiB chunk (the SDK's target) and a
 * 4 MiB one (the largest a publisher may send).
 * Runs inside `npm run bench`, or alone: `node --import tsx test/bench/chunk-serve.ts`.
 */
import { createHash } from 'node:crypto';
import { buildLayersModel } from '../fixtures/models.ts';
import { chunkArtifacts, createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { closedLoop, get } from './load.ts';

export interface Row {
  bench: string;
  value: string;
  anchor: string;
  ratio: string;
  target: string;
}
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function serving(verifyTtlMs: string) {
  const worker = await startWorker({
    http: true,
    vars: { EDGE_CACHE_TTL_MS: '5000', EDGE_VERIFY_TTL_MS: verifyTtlMs },
  });
  await createModel(worker, 'chunks');
  // dense 256×256 → a 256 KiB kernel; dense 1024×1024 → a 4 MiB kernel (each its own chunk)
  const small = await buildLayersModel({ seed: 1, inputs: 256, hidden: 256 });
  const large = await buildLayersModel({ seed: 2, inputs: 1024, hidden: 1024 });
  for (const m of [small, large]) {
    const r = await publish(worker, 'chunks', m);
    if (r.res.status !== 201) throw new Error(`publish failed: ${JSON.stringify(r.body)}`);
  }
  const biggest = (m: typeof small) => chunkArtifacts(m).sort((a, b) => b.size - a.size)[0]!;
  return { worker, chunks: [biggest(small), biggest(large)] };
}

export async function chunkServeBench(seconds = 8): Promise<Row[]> {
  const rows: Row[] = [];
  const cached = await serving('3600000');
  const every = await serving('0');
  try {
    for (const [i, chunk] of cached.chunks.entries()) {
      const path = `/v1/edge/chunks/${chunk.digest}`;
      const check = async (w: TestWorker) => {
        const res = await fetch(`${w.url}${path}`);
        const body = new Uint8Array(await res.arrayBuffer());
        if (res.status !== 200 || createHash('sha256').update(body).digest('hex') !== chunk.digest)
          throw new Error(`${path}: ${res.status}`);
      };
      await check(cached.worker);
      await check(every.worker);
      const step = (w: TestWorker) => () => get(`${w.url}${path}`);
      // One client, so the figure is a request's latency rather than the 2-core machine's
      // scheduling; rounds alternate between the Workers and the median round counts, so a burst
      // of load from other processes moves one round, not the figure.
      const rounds: { once: number; each: number }[] = [];
      let errors = 0;
      for (let r = 0; r < 7; r++) {
        const x = await closedLoop(step(cached.worker), { concurrency: 1, seconds: seconds / 7 });
        const y = await closedLoop(step(every.worker), { concurrency: 1, seconds: seconds / 7 });
        errors += x.errors + y.errors;
        if (r > 0) rounds.push({ once: x.p50ms, each: y.p50ms }); // the first round warms up
      }
      const median = (xs: number[]) => xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
      const [once, each] = [median(rounds.map((r) => r.once)), median(rounds.map((r) => r.each))];
      const size = i === 0 ? `${fmt(chunk.size / 1024)} KiB` : `${fmt(chunk.size / 2 ** 20, 1)} MiB`;
      rows.push({
        bench: `edge chunk ${size}: hashed on every read (a first read) vs once per isolate, p50 latency`,
        value: `${fmt(each, 2)} ms`,
        anchor: `${fmt(once, 2)} ms verdict cached`,
        ratio: `${fmt(each / once, 2)}×`,
        target: 'paid once per isolate and stored version',
      });
      if (errors > 0) console.log(`WARNING: ${errors} failed chunk requests during load (${size})`);
    }
  } finally {
    await cached.worker.dispose();
    await every.worker.dispose();
  }
  return rows;
}

if (process.argv[1]?.endsWith('chunk-serve.ts')) {
  const { bundleWorker } = await import('../harness/bundle.ts');
  bundleWorker();
  console.table(await chunkServeBench(Number(process.env.BENCH_SECONDS ?? 8)));
}
