/**
 * @module sybil-setup (security test helpers)
 * The Sybil suites' shared set-up: the real Worker in workerd with production settings (network
 * cap 4, decisions and alarms on ≥ 20 networks) and a fake Turnstile siteverify beside it; devices
 * from chosen client networks (CF-Connecting-IP) taking tickets and uploading step-health and
 * sketches with or without the ticket's proof; two-version models and rollouts on them. Each suite
 * file calls `startSybil` in its beforeAll and `stopSybil` in its afterAll.
 */
import {
  type HealthCounts,
  PROOF_HEADER,
  encodeUpload,
  healthLayout,
  healthUpload,
  sketchLayout,
  sketchNumeric,
  windowOf,
} from '@modelfleet/protocol';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { baseline, createApp, deviceValues, edges } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;

export const today = windowOf(new Date());
export const CAP = 4;
export const FORGED = 1000;
export const clean: HealthCounts = {
  load: { ok: 1 },
  predict: { ok: 20 },
  latencies: new Array(20).fill(2),
  backend: { wasm: 20 },
};
export const erring: HealthCounts = {
  load: { ok: 1 },
  predict: { ok: 18, inference_error: 2 },
  latencies: new Array(20).fill(2),
  backend: { wasm: 20 },
}; // 10 %, as in the report
/** Honest devices each behind their own network; the attacker's all behind one /24. */
export const honestIp = (i: number) => `198.${18 + (i >> 8)}.${i & 255}.1`; // each its own /24 (198.18.0.0/15, i < 512)
export const attackerIp = (i: number) => `203.0.113.${1 + (i % 250)}`;

export interface Issued {
  version: number;
  stage: string;
  sequence: number;
  rollout: string | null;
  proof: string;
}

export async function ticket(
  model: string,
  device: string,
  ip: string,
  extra: Record<string, string> = {},
): Promise<Issued> {
  const res = await worker.api(`/v1/edge/tickets/${model}?device=${device}`, {
    token: null,
    headers: { 'x-modelfleet-app-key': appKey, 'cf-connecting-ip': ip, ...extra },
  });
  expect(res.status).toBe(200);
  const t = JSON.parse(Buffer.from(((await res.json()) as { payload: string }).payload, 'base64').toString());
  return {
    version: t.version,
    stage: t.stage,
    sequence: t.sequence,
    rollout: t.rolloutId,
    proof: res.headers.get(PROOF_HEADER)!,
  };
}

export async function stepHealth(
  model: string,
  device: string,
  ip: string,
  t: Issued,
  counts: HealthCounts,
  proof: string | null = t.proof,
) {
  const body = encodeUpload(await healthLayout(), (await healthUpload(counts, t.sequence))!);
  return upload(
    `/v1/edge/step-health/${model}/${t.version}?device=${device}&rollout=${t.rollout}&phase=used`,
    body,
    ip,
    proof,
  );
}

/** A device upload from client network `ip`, with the ticket's proof when there is one. */
function upload(path: string, body: Uint8Array, ip: string, proof: string | null) {
  return worker.api(path, {
    method: 'POST',
    token: null,
    proof: null,
    body: body as unknown as BodyInit,
    headers: {
      'content-type': 'application/octet-stream',
      'x-modelfleet-app-key': appKey,
      'cf-connecting-ip': ip,
      ...(proof ? { [PROOF_HEADER]: proof } : {}),
    },
  });
}

export async function sketch(model: string, device: string, ip: string, proof: string | null, shift: number) {
  const layout = await sketchLayout(baseline);
  const body = encodeUpload(layout, {
    schemaDigest: layout.schemaDigest,
    window: today,
    features: deviceValues(device, shift).map((v) => sketchNumeric(v, edges)),
  });
  return upload(`/v1/edge/sketches/${model}/1?device=${device}`, body, ip, proof);
}

export async function twoVersions(name: string, withBaseline = false) {
  await createModel(worker, name);
  for (const seed of [1, 2])
    expect(
      (await publish(worker, name, await buildLayersModel({ seed, inputs: 3 }), withBaseline ? { baseline } : {})).res
        .status,
    ).toBe(201);
  await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
}

export const PLAN = {
  steps: [
    { percent: 50, bakeSeconds: 1 },
    { percent: 100, bakeSeconds: 3600 },
  ],
  analysis: [{ metric: 'inference_error_rate', tolerance: 0.05, minSample: 60, critical: true }],
};
export const startRollout = async (name: string, plan: typeof PLAN = PLAN) =>
  (
    (await (
      await worker.api(`/v1/models/${name}/rollouts`, { method: 'POST', json: { challenger: 2, plan } })
    ).json()) as { id: string }
  ).id;

/** Runs `fn` for 0…n−1, `width` at a time (the attacker is not polite either). */
export async function pool(n: number, fn: (i: number) => Promise<void>, width = 16) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export type Turnstile = Awaited<ReturnType<typeof fakeTurnstile>>;
let turnstile: Turnstile;

/** Cloudflare's siteverify, faked at the network edge: token `ok` passes; every call is recorded. */
async function fakeTurnstile() {
  const calls: { secret: string | null; response: string | null; remoteip: string | null }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = (await new Response(Buffer.concat(chunks), {
      headers: { 'content-type': req.headers['content-type']! },
    }).formData()) as unknown as { get(k: string): unknown };
    const call = {
      secret: form.get('secret') as string | null,
      response: form.get('response') as string | null,
      remoteip: form.get('remoteip') as string | null,
    };
    calls.push(call);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify(
        call.secret === 'turnstile-secret' && call.response === 'ok'
          ? { success: true }
          : { success: false, 'error-codes': ['invalid-input-response'] },
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/siteverify`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Starts the fake Turnstile and the Worker with production Sybil settings, and creates an app. */
export async function startSybil(): Promise<{ worker: TestWorker; appKey: string; turnstile: Turnstile }> {
  turnstile = await fakeTurnstile();
  worker = await startWorker({
    vars: {
      TURNSTILE_SECRET: 'turnstile-secret',
      TURNSTILE_VERIFY_URL: turnstile.url,
      NETWORK_DEVICE_CAP: String(CAP),
      ROLLOUT_MIN_NETWORKS: '20',
      DRIFT_MIN_NETWORKS: '20',
      ROLLOUT_TICK_SECONDS: '1',
      DRIFT_MIN_DEVICES: '60',
      DRIFT_EPSILON_PER_DAY: '1000',
    },
  });
  appKey = await createApp(worker);
  return { worker, appKey, turnstile };
}

export async function stopSybil(): Promise<void> {
  await worker?.dispose();
  await turnstile?.close();
}
