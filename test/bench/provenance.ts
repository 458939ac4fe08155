/**
 * @module bench/provenance
 * What the issue-15 checks cost on the device hot path, measured in one run: the same Worker
 * bundle twice, with telemetry provenance on (production: a proof minted with every ticket and
 * checked on every upload, the per-network cap counted in the aggregate) and off (UPLOAD_PROOF=off,
 * NETWORK_DEVICE_CAP=0: the path as it was). Ticket throughput and health-upload throughput,
 * each device from its own simulated network so the cap counts but never refuses.
 */
import { APP_KEY_HEADER, PROOF_HEADER, encodeUpload, healthLayout, healthUpload, windowOf } from '@modelfleet/protocol';
import { buildLayersModel } from '../fixtures/models.ts';
import { createApp } from '../fixtures/drift.ts';
import { proofMinter } from '../harness/proofs.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { closedLoop } from './load.ts';

interface Row {
  bench: string;
  value: string;
  anchor: string;
  ratio: string;
  target: string;
}
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
/** Device i's address: its own /24 (up to 65,536 devices), so the cap counts every network once. */
const ip = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.1`;

/** A published model, an app and the two loops (tickets, uploads) against one Worker. */
async function setUp(worker: TestWorker, withProofs: boolean) {
  await createModel(worker, 'prov');
  const p = await publish(worker, 'prov', await buildLayersModel({ seed: 3 }));
  if (p.res.status !== 201) throw new Error(`publish prov: ${JSON.stringify(p.body)}`);
  await worker.api('/v1/models/prov/aliases/champion', { method: 'PUT', json: { version: 1 } });
  const appKey = await createApp(worker);
  let n = 0;
  const ticket = async () => {
    const i = n++;
    const res = await fetch(`${worker.url}/v1/edge/tickets/prov?device=d${i % 5000}`, {
      headers: { [APP_KEY_HEADER]: appKey, 'cf-connecting-ip': ip(i % 5000) },
    });
    await res.arrayBuffer();
    return res.status === 200 && res.headers.has(PROOF_HEADER) === withProofs;
  };
  const body = encodeUpload(
    await healthLayout(),
    (await healthUpload(
      { load: { ok: 1 }, predict: { ok: 20 }, latencies: [2, 3, 4], backend: { wasm: 20 } },
      windowOf(new Date()),
    ))!,
  );
  // The proofs devices would hold (minted as the ticket route does), prepared before timing.
  const proofs: string[] = [];
  if (withProofs) {
    const proofOf = await proofMinter(worker.db, worker.ticketSecret, appKey);
    for (let i = 0; i < 60_000; i++) proofs.push(await proofOf('prov', 1, `u${i}`));
  }
  let u = 0;
  let accepted = 0;
  const upload = async () => {
    const i = u++;
    if (withProofs && i >= proofs.length) throw new Error(`the bench ran out of prepared proofs (${i} uploads)`);
    const res = await fetch(`${worker.url}/v1/edge/health/prov/1?device=u${i}`, {
      method: 'POST',
      body: body as unknown as BodyInit,
      headers: {
        'content-type': 'application/octet-stream',
        [APP_KEY_HEADER]: appKey,
        'cf-connecting-ip': ip(i),
        ...(withProofs ? { [PROOF_HEADER]: proofs[i]! } : {}),
      },
    });
    await res.arrayBuffer();
    if (res.status === 202) accepted++;
    return res.status === 202;
  };
  // Every accepted upload counted once, none lost: the aggregate's device count is the 202s.
  const tally = async () => {
    const status = (await (
      await worker.api(`/v1/models/prov/versions/1/sketches/${windowOf(new Date())}?cohort=health`)
    ).json()) as { devices: number };
    return { accepted, counted: status.devices };
  };
  return { ticket, upload, tally };
}

/** Both sides in alternating rounds, so neither gets the quieter part of a busy machine. */
async function alternate(a: () => Promise<boolean>, b: () => Promise<boolean>, seconds: number, concurrency: number) {
  const rounds = 4;
  const sum = { a: { requests: 0, errors: 0, seconds: 0 }, b: { requests: 0, errors: 0, seconds: 0 } };
  await closedLoop(a, { concurrency, seconds: 0.5 });
  await closedLoop(b, { concurrency, seconds: 0.5 });
  for (let r = 0; r < rounds; r++) {
    for (const [k, f] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const x = await closedLoop(f, { concurrency, seconds: seconds / rounds });
      sum[k].requests += x.requests;
      sum[k].errors += x.errors;
      sum[k].seconds += x.seconds;
    }
  }
  const rate = (x: typeof sum.a) => ({ perSecond: x.requests / x.seconds, errors: x.errors });
  return { a: rate(sum.a), b: rate(sum.b) };
}

export async function provenanceBench(seconds: number, concurrency: number): Promise<Row[]> {
  const on = await startWorker({ http: true, vars: { EDGE_CACHE_TTL_MS: '5000', NETWORK_DEVICE_CAP: '4' } });
  const off = await startWorker({
    http: true,
    vars: { EDGE_CACHE_TTL_MS: '5000', UPLOAD_PROOF: 'off', NETWORK_DEVICE_CAP: '0' },
  });
  try {
    const [x, y] = [await setUp(on, true), await setUp(off, false)];
    const tickets = await alternate(x.ticket, y.ticket, seconds, concurrency);
    const uploads = await alternate(x.upload, y.upload, seconds, concurrency);
    const [ta, tb] = [await x.tally(), await y.tally()];
    // The ratio bound is judged by report.ts like every other row's; failed requests void it.
    const target = (errors: number) => (errors ? `${errors} ERRORS` : '≥ 0.8×');
    const counts = (t: typeof ta) => `${fmt(t.accepted)} accepted, ${fmt(t.counted)} counted`;
    const ratio = (k: typeof tickets) => k.a.perSecond / k.b.perSecond;
    return [
      {
        bench: 'edge ticket with upload proof (HMAC per answer)',
        value: `${fmt(tickets.a.perSecond)} req/s`,
        anchor: `${fmt(tickets.b.perSecond)} req/s without (as before)`,
        ratio: `${fmt(ratio(tickets), 2)}×`,
        target: target(tickets.a.errors + tickets.b.errors),
      },
      {
        bench: `health upload, proof checked + network cap counted (${counts(ta)})`,
        value: `${fmt(uploads.a.perSecond)} uploads/s`,
        anchor: `${fmt(uploads.b.perSecond)} uploads/s without (${counts(tb)})`,
        ratio: `${fmt(ratio(uploads), 2)}×`,
        target: target(uploads.a.errors + uploads.b.errors),
      },
    ];
  } finally {
    await on.dispose();
    await off.dispose();
  }
}

if (process.argv[1]?.endsWith('provenance.ts'))
  console.table(
    await provenanceBench(Number(process.env.BENCH_SECONDS ?? 8), Number(process.env.BENCH_CONCURRENCY ?? 16)),
  );
