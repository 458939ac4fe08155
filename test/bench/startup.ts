/**
 * @module bench/startup
 * What a new isolate costs before it answers, and what the upload weighs against the Workers
 * limits — both of the bundle `wrangler deploy --dry-run` produces.
 *
 * The set-up is `wrangler check startup`'s (wrangler 4.86, src/check/commands.ts): a probe
 * Worker whose fetch handler does `await import()` of the bundle, in workerd under Miniflare.
 * What we read differs. `wrangler check startup` writes a V8 CPU profile, whose sample intervals
 * are wall time: on a shared 2-core machine the same bundle read 60–340 ms from run to run. We
 * read the CPU time the kernel charged to the workerd process (the schedstat of each of its
 * threads under /proc/<pid>/task, in ns): from its start through the first request, which
 * evaluates the bundle. The same for a one-line Worker is the anchor (workerd's and Miniflare's
 * own start-up); the difference is the bundle's. Timing inside the isolate would not work:
 * workerd's clocks stand still during pure compute (the Workers Spectre mitigation). No inspector
 * is attached while CPU is read: with one, V8 does more per script, and the old bundle's import
 * cost 1.8× as much. The isolate's heap after start-up is read in a separate workerd, through the
 * inspector (Runtime.getHeapUsage). Linux only (/proc). This machine's CPU is not Cloudflare's:
 * compare with the anchor, not across machines.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Miniflare } from 'miniflare';
import { BUNDLE_DIR, bundleWorker } from '../harness/bundle.ts';
import { openInspector } from '../harness/inspector.ts';

const MiB = 2 ** 20;
/**
 * Documented Workers limits, read 2026-12: the limits page now lists one 64 MiB uncompressed
 * Worker size on every plan; until that change the limits were 3 MiB (Free) and 10 MiB (Paid)
 * after gzip, which wrangler 4.86 still reports against. We check against both. Start-up: 1 s.
 */
export const LIMITS = { gzipFree: 3 * MiB, gzipPaid: 10 * MiB, uncompressed: 64 * MiB, startupMs: 1000 };

const ONE_LINE = 'export default { fetch() { return new Response("ok"); } };';
const PROBE = 'export default { async fetch() { await import("./worker.js"); return new Response("ok"); } };';
const RUNS = 11;

/** workerd processes that are children of this one. */
function workerdChildren(): Set<number> {
  const pids = new Set<number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
      if (stat.includes('(workerd)') && Number(fields[1]) === process.pid) pids.add(Number(pid));
    } catch {} // gone meanwhile
  }
  return pids;
}

/** CPU time (ms) the kernel has charged to all threads of `pid` so far. */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {} // a thread that ended
  }
  return ns / 1e6;
}

/** A probe Worker importing `source`, in a fresh workerd. */
const probeWorker = (source: string, inspector: boolean) =>
  new Miniflare({
    name: 'startup',
    compatibilityDate: '2026-04-01',
    compatibilityFlags: ['nodejs_compat'],
    cf: false,
    modulesRoot: '/bench',
    modules: [
      { type: 'ESModule', path: '/bench/probe.js', contents: PROBE },
      { type: 'ESModule', path: '/bench/worker.js', contents: source },
    ],
    ...(inspector ? { inspectorPort: 0 } : {}),
  });

async function firstAnswer(mf: Miniflare): Promise<void> {
  const res = await mf.dispatchFetch('http://startup/');
  if ((await res.text()) !== 'ok') throw new Error(`the probe answered ${res.status}: the bundle failed to evaluate`);
}

interface Sample {
  cpuMs: number;
  importMs: number;
}

/** One fresh workerd: its CPU from start through the first request, which imports `source`. */
async function sample(source: string): Promise<Sample> {
  const before = workerdChildren();
  const mf = probeWorker(source, false);
  try {
    await mf.ready;
    const pid = [...workerdChildren()].find((p) => !before.has(p));
    if (pid === undefined) throw new Error('could not find the workerd process Miniflare started');
    const ready = cpuMs(pid);
    await firstAnswer(mf);
    const answered = cpuMs(pid);
    return { cpuMs: answered, importMs: answered - ready };
  } finally {
    await mf.dispose();
  }
}

/** The isolate's used heap (MiB) once `source` is imported (the same from run to run within 0.5 %). */
async function heapAfterImport(source: string): Promise<number> {
  const mf = probeWorker(source, true);
  try {
    await firstAnswer(mf);
    const session = await openInspector(mf, 'startup');
    const { usedSize } = (await session.call('Runtime.getHeapUsage')) as { usedSize: number };
    session.close();
    return usedSize / MiB;
  } finally {
    await mf.dispose();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const medians = (samples: Sample[]): Sample => ({
  cpuMs: median(samples.map((s) => s.cpuMs)),
  importMs: median(samples.map((s) => s.importMs)),
});

type Measured = Sample & { heapMiB: number };

/** Each source in turn, `runs` rounds (interleaved, so a busy spell hits all alike); medians. */
export async function measureStartup(sources: string[], runs = RUNS): Promise<Measured[]> {
  const samples: Sample[][] = sources.map(() => []);
  for (let i = 0; i < runs; i++) for (const [k, source] of sources.entries()) samples[k]!.push(await sample(source));
  const out: Measured[] = [];
  for (const [k, source] of sources.entries())
    out.push({ ...medians(samples[k]!), heapMiB: await heapAfterImport(source) });
  return out;
}

type Row = { bench: string; value: string; anchor: string; ratio: string; target: string };

/** The bench table's rows for the bundle in `dir` (its worker.js). */
export async function startupBench(dir = BUNDLE_DIR): Promise<Row[]> {
  const source = readFileSync(join(dir, 'worker.js'), 'utf8');
  const [bundle, oneLine] = (await measureStartup([source, ONE_LINE])) as [Measured, Measured];
  const bytes = Buffer.byteLength(source);
  const gzipBytes = gzipSync(source).length;
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  const kib = (n: number) => `${(n / 1024).toLocaleString('en-US', { maximumFractionDigits: 0 })} KiB`;
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)} %`;
  const own = bundle.cpuMs - oneLine.cpuMs;
  return [
    {
      bench: `Worker start-up CPU, workerd start to first answer, minus a one-line Worker's (median of ${RUNS})`,
      value: ms(own),
      anchor: `one-line Worker ${ms(oneLine.cpuMs)} in all`,
      ratio: `${(bundle.cpuMs / oneLine.cpuMs).toFixed(2)}× in all`,
      target: `limit ${LIMITS.startupMs} ms (${pct(own, LIMITS.startupMs)})`,
    },
    {
      bench: '  of which the first request (importing the bundle)',
      value: ms(bundle.importMs),
      anchor: `one-line Worker ${ms(oneLine.importMs)}`,
      ratio: '—',
      target: '—',
    },
    {
      bench: 'isolate heap after start-up',
      value: `${bundle.heapMiB.toFixed(1)} MiB`,
      anchor: `one-line Worker ${oneLine.heapMiB.toFixed(1)} MiB`,
      ratio: '—',
      target: 'of 128 MB per isolate',
    },
    {
      bench: 'Worker upload size, gzip (the former 3 MiB Free / 10 MiB Paid limits)',
      value: kib(gzipBytes),
      anchor: '3,072 / 10,240 KiB',
      ratio: `${pct(gzipBytes, LIMITS.gzipFree)} / ${pct(gzipBytes, LIMITS.gzipPaid)}`,
      target: '< 100 %',
    },
    {
      bench: 'Worker upload size, uncompressed (64 MiB on every plan)',
      value: kib(bytes),
      anchor: '65,536 KiB',
      ratio: pct(bytes, LIMITS.uncompressed),
      target: '< 100 %',
    },
  ];
}

// Standalone: `node --import tsx test/bench/startup.ts` bundles and prints these rows; with
// directories (each from `wrangler deploy --dry-run --outdir <dir>`, e.g. at an older commit) it
// measures those bundles against one another and a one-line Worker.
if (import.meta.url === `file://${process.argv[1]}`) {
  const dirs = process.argv.slice(2).map((d) => resolve(d));
  if (dirs.length === 0) {
    bundleWorker();
    console.table(await startupBench());
  } else {
    const sources = dirs.map((d) => readFileSync(join(d, 'worker.js'), 'utf8'));
    const results = await measureStartup([...sources, ONE_LINE]);
    for (const [k, name] of [...dirs, 'one-line Worker'].entries()) {
      const r = results[k]!;
      const size =
        k < sources.length
          ? `, ${(Buffer.byteLength(sources[k]!) / 1024).toFixed(0)} KiB, gzip ${(gzipSync(sources[k]!).length / 1024).toFixed(0)} KiB`
          : '';
      console.log(
        `${name}: workerd CPU ${r.cpuMs.toFixed(1)} ms, of which the first request ${r.importMs.toFixed(1)} ms; heap ${r.heapMiB.toFixed(2)} MiB${size}`,
      );
    }
  }
}
