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

interface Row { bench: string; value: string; anchor: string; ratio: string; target: string }
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function measure(worker: TestWorker, seconds: number, concurrency: number, withProofs: boolean) {
  await createModel(worker, 'prov');
  const p = await publish(worker, 'prov', await buildLayersModel({ seed: 3 }));
  if (p.res.status !== 201) throw new Error(`publish prov: ${JSON.stringify(p.body)}`);
  await worker.api('/v1/models/prov/aliases/champion', { method: 'PUT', json: { version: 1 } });
  const appKey = await createApp(worker);
  let n = 0;
  const ticket = async () => {
    const i = n++;
    const res = await fetch(`${worker.url}/v1/edge/tickets/prov?device=d${i % 5000}`, { headers: { [APP_KEY_HEADER]: appKey, 'cf-connecting-ip': ip(i % 5000) } });
    await res.arrayBuffer();
    return res.status === 200 && (res.headers.has(PROOF_HEADER) === withProofs);
  };
  const body = encodeUpload(await healthLayout(), (await healthUpload({ load: { ok: 1 }, predict: { ok: 20 }, latencies: [2, 3, 4], backend: { wasm: 20 } }, windowOf(new Date())))!);
  // The proofs devices would hold (minted as the ticket route does), prepared before timing.
  const proofs: string[] = [];
  if (withProofs) {
    const proofOf = await proofMinter(worker.db, worker.ticketSecret, appKey);
    for (let i = 0; i < 40_000; i++) proofs.push(await proofOf('prov', 1, `u${i}`));
  }
  let u = 0;
  let accepted = 0;
  const upload = async () => {
    const i = u++;
    const res = await fetch(`${worker.url}/v1/edge/health/prov/1?device=u${i}`, {
      method: 'POST', body: body as unknown as BodyInit,
      headers: { 'content-type': 'application/octet-stream', [APP_KEY_HEADER]: appKey, 'cf-connecting-ip': ip(i), ...(withProofs ? { [PROOF_HEADER]: proofs[i]! } : {}) },
    });
    await res.arrayBuffer();
    if (res.status === 202) accepted++;
    return res.status === 202;
  };
  await closedLoop(ticket, { concurrency, seconds: 1 });
  const tickets = await closedLoop(ticket, { concurrency, seconds });
  await closedLoop(upload, { concurrency, seconds: 1 });
  const uploads = await closedLoop(upload, { concurrency, seconds });
  if (u > proofs.length && withProofs) throw new Error(`the bench ran out of prepared proofs (${u} uploads)`);
  // Every accepted upload counted once, none lost: the aggregate's device count is the 202s.
  const status = (await (await worker.api(`/v1/models/prov/versions/1/sketches/${windowOf(new Date())}?cohort=health`)).json()) as { devices: number };
  return { tickets, uploads, accepted, counted: status.devices };
}

export async function provenanceBench(seconds: number, concurrency: number): Promise<Row[]> {
  const on = await startWorker({ http: true, vars: { EDGE_CACHE_TTL_MS: '5000', NETWORK_DEVICE_CAP: '4' } });
  const off = await startWorker({ http: true, vars: { EDGE_CACHE_TTL_MS: '5000', UPLOAD_PROOF: 'off', NETWORK_DEVICE_CAP: '0' } });
  try {
    // Alternated, so neither side gets the quieter half of the run.
    const b = await measure(off, seconds, concurrency, false);
    const a = await measure(on, seconds, concurrency, true);
    const errs = (x: typeof a) => x.tickets.errors + x.uploads.errors;
    const target = (ratio: number, x: typeof a) => (errs(x) ? `${errs(x)} ERRORS` : ratio >= 0.8 ? '≥ 0.8× ✓' : '≥ 0.8× ✗');
    const tally = (x: typeof a) => `${fmt(x.accepted)} accepted, ${fmt(x.counted)} counted`;
    return [
      { bench: 'edge ticket with upload proof (HMAC per answer)', value: `${fmt(a.tickets.perSecond)} req/s`, anchor: `${fmt(b.tickets.perSecond)} req/s without (as before)`, ratio: `${fmt(a.tickets.perSecond / b.tickets.perSecond, 2)}×`, target: target(a.tickets.perSecond / b.tickets.perSecond, a) },
      { bench: `health upload with proof check + network cap (into the DO; ${tally(a)})`, value: `${fmt(a.uploads.perSecond)} uploads/s`, anchor: `${fmt(b.uploads.perSecond)} uploads/s without (${tally(b)})`, ratio: `${fmt(a.uploads.perSecond / b.uploads.perSecond, 2)}×`, target: target(a.uploads.perSecond / b.uploads.perSecond, a) },
    ];
  } finally {
    await on.dispose();
    await off.dispose();
  }
}
