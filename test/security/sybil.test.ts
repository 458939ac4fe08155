// Sybil-resistant telemetry (issue 15, "forged device telemetry decides rollouts"), against the real
// Worker in workerd with production settings: network cap 4, decisions and alarms on ≥ 20 networks.
// Before this change, with only the public app key, invented device ids sent step-health into
// either range and rolled a healthy rollout back; daily windows could be poisoned the same way.
// Client networks are simulated with CF-Connecting-IP, which Cloudflare sets (and overwrites) in
// production and workerd passes through locally.
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
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { baseline, createApp, createToken, deviceValues, edges } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { pollUntil } from '../harness/poll.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

vi.setConfig({ testTimeout: 400_000, hookTimeout: 120_000 });

let worker: TestWorker;
let appKey: string;
const today = windowOf(new Date());
const CAP = 4;
const FORGED = 1000;
const clean: HealthCounts = {
  load: { ok: 1 },
  predict: { ok: 20 },
  latencies: new Array(20).fill(2),
  backend: { wasm: 20 },
};
const erring: HealthCounts = {
  load: { ok: 1 },
  predict: { ok: 18, inference_error: 2 },
  latencies: new Array(20).fill(2),
  backend: { wasm: 20 },
}; // 10 %, as in the report
/** Honest devices each behind their own network; the attacker's all behind one /24. */
const honestIp = (i: number) => `198.${18 + (i >> 8)}.${i & 255}.1`; // each its own /24 (198.18.0.0/15, i < 512)
const attackerIp = (i: number) => `203.0.113.${1 + (i % 250)}`;

interface Issued {
  version: number;
  stage: string;
  sequence: number;
  rollout: string | null;
  proof: string;
}

async function ticket(model: string, device: string, ip: string, extra: Record<string, string> = {}): Promise<Issued> {
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

async function stepHealth(
  model: string,
  device: string,
  ip: string,
  t: Issued,
  counts: HealthCounts,
  proof: string | null = t.proof,
) {
  const body = encodeUpload(await healthLayout(), (await healthUpload(counts, t.sequence))!);
  return worker.api(`/v1/edge/step-health/${model}/${t.version}?device=${device}&rollout=${t.rollout}&phase=used`, {
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

async function sketch(model: string, device: string, ip: string, proof: string | null, shift: number) {
  const layout = await sketchLayout(baseline);
  const body = encodeUpload(layout, {
    schemaDigest: layout.schemaDigest,
    window: today,
    features: deviceValues(device, shift).map((v) => sketchNumeric(v, edges)),
  });
  return worker.api(`/v1/edge/sketches/${model}/1?device=${device}`, {
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

async function twoVersions(name: string, withBaseline = false) {
  await createModel(worker, name);
  for (const seed of [1, 2])
    expect(
      (await publish(worker, name, await buildLayersModel({ seed, inputs: 3 }), withBaseline ? { baseline } : {})).res
        .status,
    ).toBe(201);
  await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
}

const PLAN = {
  steps: [
    { percent: 50, bakeSeconds: 1 },
    { percent: 100, bakeSeconds: 3600 },
  ],
  analysis: [{ metric: 'inference_error_rate', tolerance: 0.05, minSample: 60, critical: true }],
};
const startRollout = async (name: string, plan: typeof PLAN = PLAN) =>
  (
    (await (
      await worker.api(`/v1/models/${name}/rollouts`, { method: 'POST', json: { challenger: 2, plan } })
    ).json()) as { id: string }
  ).id;
const decided = (id: string) =>
  pollUntil(
    async () => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any,
    (r) => (r.decision?.outcome && r.decision.outcome !== 'hold') || r.state !== 'running',
    { timeoutMs: 90_000, what: `rollout ${id} decision` },
  );

/** `perArm` honest devices in each range, each from its own network, all clean. */
async function honestFleet(name: string, perArm: number) {
  const counts = { challenger: 0, control: 0 };
  for (let i = 0; counts.challenger < perArm || counts.control < perArm; i++) {
    const device = `${name}-h${i}`;
    const t = await ticket(name, device, honestIp(i));
    const arm = t.stage as 'challenger' | 'control';
    if (counts[arm] >= perArm) continue;
    expect((await stepHealth(name, device, honestIp(i), t, clean)).status).toBe(202);
    counts[arm]++;
  }
}

/** Runs `fn` for 0…n−1, `width` at a time (the attacker is not polite either). */
async function pool(n: number, fn: (i: number) => Promise<void>, width = 16) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** The report's attack: invented ids from one network; challenger ones err 10 %, control ones are clean. */
async function forge(name: string) {
  const refused: Record<number, number> = {};
  await pool(FORGED, async (i) => {
    const device = `${name}-forged-${i}`;
    const t = await ticket(name, device, attackerIp(i));
    const res = await stepHealth(name, device, attackerIp(i), t, t.stage === 'challenger' ? erring : clean);
    refused[res.status] = (refused[res.status] ?? 0) + 1;
  });
  return refused;
}

let turnstile: Awaited<ReturnType<typeof fakeTurnstile>>;

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

beforeAll(async () => {
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
});
afterAll(async () => {
  await worker?.dispose();
  await turnstile?.close();
});

describe('forged step telemetry', () => {
  it(`${FORGED} invented ids from one network do not change the rollout's decision (the honest run's promote)`, async () => {
    await twoVersions('honest');
    await twoVersions('attacked');
    // 154 devices an arm before the step's first release: the attacked arms (150 honest + the 4
    // counted forged ones) cannot be released — and decided, moving the step on — while honest
    // devices are still reporting. 150 honest devices an arm, not fewer: the always-valid interval
    // at 60 is wide enough that 4 erring devices (6 % of the arm) turn a pass into a hold.
    const plan = { ...PLAN, analysis: [{ ...PLAN.analysis[0]!, minSample: 154 }] };
    const [honestId, attackedId] = [await startRollout('honest', plan), await startRollout('attacked', plan)];
    // The attack lands first, so the step's release cannot happen before it.
    const refused = await forge('attacked');
    // Per arm, the network's first CAP devices were counted; every other upload was refused as network_limited.
    expect(refused[202]).toBe(2 * CAP);
    expect(refused[403]).toBe(FORGED - 2 * CAP);
    await honestFleet('honest', 154);
    await honestFleet('attacked', 150);
    const [h, a] = [await decided(honestId), await decided(attackedId)];
    expect(h.decision.outcome).toBe('promote');
    expect(a.decision.outcome).toBe(h.decision.outcome);
    expect(a.state).toBe('running');
    // The decision states the networks behind each arm: the honest 150 and the attacker's one.
    const floor = a.decision.metrics.find((m: any) => m.metric === 'distinct_networks');
    expect(floor).toMatchObject({ status: 'pass', threshold: 20, sample: { challenger: 151, control: 151 } });
  });

  it('a decision resting on fewer networks than the floor is withheld, a rollback included', async () => {
    await twoVersions('few');
    const id = await startRollout('few');
    // 60 attested devices per arm (attested devices are not capped) behind only 10 networks.
    const counts = { challenger: 0, control: 0 };
    for (let i = 0; counts.challenger < 60 || counts.control < 60; i++) {
      const [device, ip] = [`few-${i}`, `10.${i % 10}.0.1`];
      const t = await ticket('few', device, ip, { 'x-modelfleet-attestation': 'turnstile:ok' });
      const arm = t.stage as 'challenger' | 'control';
      if (counts[arm] >= 60) continue;
      expect(
        (
          await stepHealth(
            'few',
            device,
            ip,
            t,
            arm === 'challenger' ? { ...clean, predict: { inference_error: 20 } } : clean,
          )
        ).status,
      ).toBe(202);
      counts[arm]++;
    }
    const r = await pollUntil(
      async () => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any,
      (x) => x.decision?.metrics?.some((m: any) => m.metric === 'distinct_networks'),
      { timeoutMs: 90_000, what: 'a decision' },
    );
    // Every challenger call failed: the metric fails, yet 10 networks cannot roll back on their own.
    expect(r.decision.metrics.find((m: any) => m.metric === 'inference_error_rate').status).toBe('fail');
    expect(r.decision.outcome).toBe('hold');
    expect(r.state).toBe('running');
    expect(r.decision.summary).toMatch(/10 client networks.*< 20.*would fail: inference_error_rate/);
  });
});

describe('proofs', () => {
  let t: Issued;
  beforeAll(async () => {
    await twoVersions('proofs', true);
    t = await ticket('proofs', 'dev-a', honestIp(1));
  });
  const count = async () =>
    ((await (await worker.api(`/v1/models/proofs/versions/1/sketches/${today}`)).json()) as { devices: number })
      .devices;

  it("an upload without the ticket's proof, or with another device's, is refused and counts nothing", async () => {
    const none = await sketch('proofs', 'dev-a', honestIp(1), null, 0);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'proof_required' } });
    const stolen = await sketch('proofs', 'dev-b', honestIp(2), t.proof, 0);
    expect(stolen.status).toBe(403);
    expect(await stolen.json()).toMatchObject({ error: { code: 'proof_invalid' } });
    const tampered = await sketch('proofs', 'dev-a', honestIp(1), t.proof.replace('.champion.', '.control.'), 0);
    expect(await tampered.json()).toMatchObject({ error: { code: 'proof_invalid' } });
    expect(await count()).toBe(0);
    expect((await sketch('proofs', 'dev-a', honestIp(1), t.proof, 0)).status).toBe(202);
    expect(await count()).toBe(1);
  });

  it("a proof is for one version: v1's proof does not carry a v2 upload", async () => {
    const body = encodeUpload(await healthLayout(), (await healthUpload(clean, today))!);
    const res = await worker.api(`/v1/edge/health/proofs/2?device=dev-a`, {
      method: 'POST',
      token: null,
      proof: null,
      body: body as unknown as BodyInit,
      headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey, [PROOF_HEADER]: t.proof },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: { code: 'proof_invalid', message: expect.stringContaining('v1') },
    });
  });

  it('the rollout salt is 256 secret bits: in no response, no audit record; a publisher cannot pin one', async () => {
    await twoVersions('salted');
    const id = await startRollout('salted');
    const view = await (await worker.api(`/v1/rollouts/${id}`)).text();
    const audit = await (await worker.api(`/v1/audit?subject=rollout/${id}`)).text();
    const { salt } = (await worker.db
      .prepare('SELECT salt FROM rollouts WHERE id = ?')
      .bind(id)
      .first<{ salt: string }>())!;
    expect(salt).toMatch(/^[0-9a-f]{64}$/);
    expect(salt).not.toBe(`salted:2:${id}`);
    expect(view).not.toContain(salt);
    expect(audit).not.toContain(salt);
    expect(view).not.toContain('"salt"');
    const publisher = await createToken(worker, 'publisher');
    await worker.api(`/v1/rollouts/${id}/abort`, { method: 'POST', json: {} });
    const pinned = await worker.api('/v1/models/salted/rollouts', {
      method: 'POST',
      token: publisher,
      json: { challenger: 2, plan: { ...PLAN, salt: 'chosen' } },
    });
    expect(pinned.status).toBe(403);
    expect(
      await worker.db.prepare("SELECT COUNT(*) AS n FROM rollouts WHERE plan LIKE '%chosen%'").first<{ n: number }>(),
    ).toEqual({ n: 0 });
  });
});

describe('attestation', () => {
  it('a device that passes Turnstile (verified server side) is not capped; a failed token leaves it capped', async () => {
    await twoVersions('attest', true);
    const before = turnstile.calls.length;
    // The attacker's network is full after CAP unattested devices…
    for (let i = 0; i < CAP; i++) {
      const t = await ticket('attest', `crowd-${i}`, attackerIp(i));
      expect((await sketch('attest', `crowd-${i}`, attackerIp(i), t.proof, 0)).status).toBe(202);
    }
    const bad = await ticket('attest', 'crowd-bad', attackerIp(7), { 'x-modelfleet-attestation': 'turnstile:forged' });
    const refused = await sketch('attest', 'crowd-bad', attackerIp(7), bad.proof, 0);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'network_limited' } });
    // …but an attested device on it still counts.
    const good = await ticket('attest', 'crowd-good', attackerIp(8), { 'x-modelfleet-attestation': 'turnstile:ok' });
    expect((await sketch('attest', 'crowd-good', attackerIp(8), good.proof, 0)).status).toBe(202);
    // The edge asked the provider with its secret, the token and the client address.
    expect(turnstile.calls.slice(before)).toEqual([
      { secret: 'turnstile-secret', response: 'forged', remoteip: attackerIp(7) },
      { secret: 'turnstile-secret', response: 'ok', remoteip: attackerIp(8) },
    ]);
  });
});

describe('forged drift sketches', () => {
  it(`${FORGED} shifted sketches from one network do not change the window's verdict (the honest window's)`, async () => {
    for (const name of ['drift-honest', 'drift-attacked']) {
      await createModel(worker, name);
      expect(
        (await publish(worker, name, await buildLayersModel({ seed: 1, inputs: 3 }), { baseline })).res.status,
      ).toBe(201);
      await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
    }
    let accepted = 0;
    await pool(FORGED, async (i) => {
      const device = `forged-${i}`;
      const t = await ticket('drift-attacked', device, attackerIp(i));
      if ((await sketch('drift-attacked', device, attackerIp(i), t.proof, 3)).status === 202) accepted++;
    });
    expect(accepted).toBe(CAP);
    for (const name of ['drift-honest', 'drift-attacked']) {
      for (let i = 0; i < 60; i++) {
        const t = await ticket(name, `${name}-${i}`, honestIp(i));
        expect((await sketch(name, `${name}-${i}`, honestIp(i), t.proof, 0)).status).toBe(202);
      }
    }
    const close = async (name: string) =>
      (await (
        await worker.api(`/v1/models/${name}/versions/1/sketches/${today}/close`, { method: 'POST' })
      ).json()) as any;
    const [h, a] = [await close('drift-honest'), await close('drift-attacked')];
    expect(h.released).toBe(true);
    expect(a.devices).toBe(60 + CAP);
    expect(a.alarm).toBe(h.alarm);
    expect(a.alarm).toBe(false);
  });
});
