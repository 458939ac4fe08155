// The retrain service of examples/retrain against the real Worker: examples/fraud-model is v1
// (champion); the service is registered as the model's webhook. Devices running v1 on the new
// fraud pattern drift; closing the window makes the Worker deliver retrain_requested; the service
// trains on fresh rows of that pattern and publishes v2 with lineage, metrics, explanations and a
// baseline, and has the control plane score v1 and v2 on the same fresh set. Bad signatures,
// repeated deliveries and other event types start nothing; one job per model runs at a time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CloudEvent,
  type EvalSetView,
  type EventData,
  type EventType,
  type Manifest,
  encodeUpload,
  fromBase64,
  parseManifest,
  signWebhook,
  sketchLayout,
  windowOf,
} from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, transactions } from '../../examples/demo/transactions.ts';
import { downloadVersion } from '../../examples/retrain/champion.ts';
import { predict } from '../../examples/retrain/evaluate.ts';
import { RETRAIN_EVENT, startRetrainService } from '../../examples/retrain/server.ts';
import { demoSource } from '../../examples/retrain/job.ts';
import { createApp, createToken } from '../fixtures/drift.ts';
import { createSketcher } from '../../web-sdk/src/telemetry/sketcher.ts';
import { runCli } from '../harness/cli.ts';
import { pollUntil } from '../harness/poll.ts';
import { stageUpload } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const EXAMPLE = join(import.meta.dirname, '../../examples/fraud-model');
const work = mkdtempSync(join(tmpdir(), 'retrain-test-'));
let worker: TestWorker;
let service: Awaited<ReturnType<typeof startRetrainService>>;
let secret: string;
const lines: string[] = [];

const versions = async () =>
  (
    (await (await worker.api('/v1/models/fraud/versions')).json()) as {
      versions: { version: number; manifestDigest: string }[];
    }
  ).versions;

const WINDOW = { model: 'fraud', version: 1, window: 20000, devices: 200 };
/** Each type's data as drift/close.ts writes it (protocol webhook-events.ts). */
const EVENT_DATA = {
  [RETRAIN_EVENT]: { ...WINDOW, reasons: ['share'], windowScore: 1.2, outputs: null, alarmedFeatures: ['amount'] },
  'dev.modelfleet.drift.alarm': { ...WINDOW, noiseSigma: 0.5, outputs: null, features: [] },
} satisfies { [T in EventType]?: EventData<T> };

/** A retrain_requested delivery as the Worker sends it (drift/close.ts), signed with `key`. */
async function delivery(id: string, key = secret, type: keyof typeof EVENT_DATA = RETRAIN_EVENT) {
  const event = {
    specversion: '1.0',
    id,
    source: '/v1/models/fraud',
    type,
    subject: 'versions/1/drift/20000',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: EVENT_DATA[type],
  } as CloudEvent;
  const body = JSON.stringify(event);
  const headers = await signWebhook(key, id, Math.floor(Date.now() / 1000), body);
  const res = await fetch(service.url, {
    method: 'POST',
    body,
    headers: { ...headers, 'content-type': 'application/cloudevents+json; charset=utf-8' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A port nothing listens on now: the webhook is created for it before the service starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Today's window for v1 as 25 devices running the champion on the new fraud pattern would send
 * it (the web SDK's sketcher on 40 'after' transactions each), then closed: the Worker alarms,
 * asks for retraining, and delivers that event to the service through its queue.
 */
async function closeDriftedWindow(): Promise<{
  alarm: boolean;
  retrain: { reasons: string[] } | null;
  window: number;
}> {
  const appKey = await createApp(worker);
  const { manifest, model } = await downloadVersion({ endpoint: worker.url, token: worker.adminToken }, 'fraud', 1);
  const baseline = manifest.monitoring.baseline!;
  const layout = await sketchLayout(baseline);
  const window = windowOf(new Date());
  for (let d = 0; d < 25; d++) {
    const rows = transactions(40, { seed: 1000 + d, regime: 'after' }).map((r) => r.x);
    const sketcher = createSketcher(baseline, layout, window);
    sketcher.observe(
      rows,
      [...(await predict(model, rows))].map((p) => [p]),
    );
    const res = await worker.api(`/v1/edge/sketches/fraud/1?device=device-${d}`, {
      method: 'POST',
      token: null,
      body: encodeUpload(layout, sketcher.build()!) as unknown as BodyInit,
      headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
    });
    expect(res.status).toBe(202);
  }
  const close = await worker.api(`/v1/models/fraud/versions/1/sketches/${window}/close`, { method: 'POST' });
  expect(close.status).toBe(200);
  return { ...((await close.json()) as { alarm: boolean; retrain: { reasons: string[] } | null }), window };
}

let hookId: string;
beforeAll(async () => {
  // Drift decides on 25 devices here (production needs more) and releases with little noise.
  worker = await startWorker({ http: true, vars: { DRIFT_MIN_DEVICES: '20', DRIFT_EPSILON_PER_DAY: '1000' } });
  const files = ['metrics', 'params', 'golden', 'baseline', 'lineage'].flatMap((f) => [
    `--${f}`,
    join(EXAMPLE, `${f}.json`),
  ]);
  const published = await runCli(
    worker,
    EXAMPLE,
    'publish',
    EXAMPLE,
    '--model',
    'fraud',
    '--create',
    '--alias',
    'champion',
    ...files,
  );
  expect(published.code, published.err).toBe(0);

  // As in production: the admin creates the webhook for the service's address and hands the
  // secret shown once to the service's configuration.
  const port = await freePort();
  const res = await worker.api('/v1/webhooks', {
    method: 'POST',
    json: {
      url: `http://127.0.0.1:${port}/hooks`,
      events: [RETRAIN_EVENT, 'dev.modelfleet.webhook.ping'],
      model: 'fraud',
    },
  });
  ({ id: hookId, secret } = (await res.json()) as { id: string; secret: string });
  service = await startRetrainService({
    port,
    secret,
    endpoint: worker.url,
    token: await createToken(worker, 'publisher'),
    evalSetToken: await createToken(worker, 'operator'),
    root: worker.rootEnvelope,
    source: demoSource(7),
    trainRows: 3000,
    evalRows: 1500,
    train: { epochs: 10 },
    codeCommit: 'abc1234',
    workDir: work,
    log: (l) => lines.push(l),
  });
});
afterAll(async () => {
  await service?.close();
  await worker?.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('retrain service', () => {
  it("takes the Worker's own signed deliveries (a ping: answered 202, ignored, no job)", async () => {
    const { eventId } = (await (await worker.api(`/v1/webhooks/${hookId}/ping`, { method: 'POST' })).json()) as {
      eventId: string;
    };
    const done = await pollUntil(
      async () =>
        (
          (await (await worker.api(`/v1/deliveries?webhook=${hookId}`)).json()) as {
            deliveries: { eventId: string; status: string; lastStatus: number }[];
          }
        ).deliveries.find((d) => d.eventId === eventId),
      (d) => d?.status === 'delivered',
      { what: 'the ping delivered', everyMs: 50, timeoutMs: 15_000 },
    );
    expect(done!.lastStatus).toBe(202);
    expect(service.jobs).toEqual([]);
  });

  it('refuses a bad signature (401) and a signed non-event (400), and publishes nothing', async () => {
    const before = await versions();
    const forged = await delivery('drift.retrain/fraud/1/20000', 'whsec_' + Buffer.alloc(32, 1).toString('base64'));
    expect([forged.status, forged.body.error?.code]).toEqual([401, 'bad_signature']);
    const body = '{"not":"an event"}';
    const signed = await fetch(service.url, {
      method: 'POST',
      body,
      headers: await signWebhook(secret, 'x1', Math.floor(Date.now() / 1000), body),
    });
    expect(signed.status).toBe(400);
    const stale = await fetch(service.url, {
      method: 'POST',
      body,
      headers: await signWebhook(secret, 'x2', Math.floor(Date.now() / 1000) - 3600, body),
    });
    expect(stale.status).toBe(401);
    expect(service.jobs).toEqual([]);
    expect(await versions()).toEqual(before);
  });

  it('a drift window that asks for retraining, delivered by the Worker and then again by hand, runs one job that publishes v2 with lineage, explanations, a baseline and server-side evaluations', async () => {
    const closed = await closeDriftedWindow();
    expect(closed.alarm).toBe(true);
    expect(closed.retrain!.reasons.length).toBeGreaterThan(0);
    const id = `drift.retrain/fraud/1/${closed.window}`;
    const log = async () =>
      (
        (await (await worker.api(`/v1/deliveries?webhook=${hookId}`)).json()) as {
          deliveries: { eventId: string; status: string; lastStatus: number }[];
        }
      ).deliveries;
    const delivered = await pollUntil(
      async () => (await log()).find((d) => d.eventId === id),
      (d) => d?.status === 'delivered',
      { what: 'the retrain request delivered', everyMs: 50, timeoutMs: 15_000 },
    );
    expect(delivered!.lastStatus).toBe(202);
    expect(service.jobs.map((j) => j.eventId)).toEqual([id]);
    // The same event again, as a retry after a lost answer would bring it: 200, no second job.
    const again = await delivery(id);
    expect([again.status, again.body.duplicate]).toEqual([200, true]);
    expect(service.jobs).toHaveLength(1);
    await service.jobs[0]!.done;
    const job = service.jobs[0]!;
    expect(job.error).toBeUndefined();
    expect(job.state).toBe('done');
    expect(job.result!.version).toBe(2);

    const v2 = (await versions()).find((v) => v.version === 2)!;
    const envelope = (await (await worker.api(`/v1/edge/manifests/${v2.manifestDigest}`, { token: null })).json()) as {
      payload: string;
    };
    const manifest: Manifest = parseManifest(fromBase64(envelope.payload));
    const digest = job.result!.evalSetDigest;
    expect(manifest.lineage).toMatchObject({
      parentVersion: 1,
      codeCommit: 'abc1234',
      dataDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(manifest.metrics.evalSetDigest).toBe(digest);
    const explanations = manifest.metrics.explanations as {
      method: string;
      metric: string;
      evalSetDigest: string;
      features: Record<string, number>;
    };
    expect(explanations).toMatchObject({ method: 'permutation', metric: 'auc', evalSetDigest: digest });
    expect(Object.keys(explanations.features).sort()).toEqual([...FEATURES].sort());
    // The new pattern lives in amount against the usual spend: the challenger leans on amount most.
    const ranked = Object.entries(explanations.features)
      .sort((a, b) => b[1] - a[1])
      .map(([f]) => f);
    expect(ranked[0]).toBe('amount');
    expect(manifest.monitoring.baseline!.features.map((f) => f.name)).toEqual([...FEATURES]);
    expect(manifest.monitoring.baseline!.outputs).toBeDefined();

    // The gate's numbers, computed by the control plane on the fresh set for both versions.
    const set = (await (await worker.api('/v1/models/fraud/eval-set')).json()) as EvalSetView;
    expect(set.digest).toBe(digest);
    expect(set.rows).toBe(1500);
    const byVersion = Object.fromEntries(set.evaluations.map((e) => [e.version, e]));
    expect(byVersion[1]).toMatchObject({ evalSetDigest: digest, source: 'control-plane' });
    expect(byVersion[2]).toMatchObject({ evalSetDigest: digest, source: 'control-plane' });
    expect(byVersion[2]!.metrics.accuracy).toBeGreaterThan(byVersion[1]!.metrics.accuracy + 0.03);
    expect(byVersion[2]!.metrics.logLoss!).toBeLessThan(byVersion[1]!.metrics.logLoss!);
    // Locally too, on the same rows: the champion has lost its ranking power on the new pattern.
    const { champion, challenger } = job.result!;
    expect(challenger.local.auc).toBeGreaterThan(champion.local.auc + 0.1);
    expect(challenger.local.accuracy).toBeCloseTo(byVersion[2]!.metrics.accuracy, 3);
    expect(lines.some((l) => l.includes('published v2'))).toBe(true);
  });

  it('other event types are ignored (202); a version already retrained is skipped, one job at a time', async () => {
    const alarm = await delivery('drift.alarm/fraud/1/20001', secret, 'dev.modelfleet.drift.alarm');
    expect([alarm.status, alarm.body.ignored]).toEqual([202, 'dev.modelfleet.drift.alarm']);
    expect(service.jobs).toHaveLength(1);

    // Three windows' requests back to back. The first starts at once; whether the next ones wait
    // (and the middle one is superseded) depends on how fast the first skips, so only what holds
    // either way is asserted here — retrain-queue.test.ts checks the waiting in a fixed order.
    const answers = [];
    for (const w of [20002, 20003, 20004]) answers.push(await delivery(`drift.retrain/fraud/1/${w}`));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers[0]!.body.state).toBe('running');
    const [a, b, c] = service.jobs.slice(1);
    await Promise.all([a!.done, b!.done, c!.done]);
    // v1 already has a challenger retrained from it (v2, the test above): every job that ran
    // skipped, and nothing more is published — the plane asks again at every window that still drifts.
    expect([a!.state, c!.state]).toEqual(['skipped', 'skipped']);
    if (b!.state === 'failed') expect(b!.error).toMatch(/superseded by event drift.retrain\/fraud\/1\/20004/);
    else expect(b!.state).toBe('skipped');
    expect(lines.some((l) => l.includes(`job ${a!.id}: skipped: v2 was already retrained from v1`))).toBe(true);
    const { versions } = (await (await worker.api('/v1/models/fraud/versions')).json()) as { versions: unknown[] };
    expect(versions).toHaveLength(2);
    // One job per model at a time: each job that ran started only after the one before it ended.
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    const ran = [a!, b!, c!].filter((j) => j.state === 'skipped');
    for (let i = 1; i < ran.length; i++)
      expect(at(`job ${ran[i]!.id}: retraining`)).toBeGreaterThan(at(`job ${ran[i - 1]!.id}: skipped`));
  });

  it('explanations in metrics are checked at publish: a malformed one is refused and stores nothing', async () => {
    const before = await versions();
    const artifacts = {
      modelJson: JSON.parse(readFileSync(join(EXAMPLE, 'model.json'), 'utf8')),
      weightData: new Uint8Array(readFileSync(join(EXAMPLE, 'group1-shard1of1.bin'))),
    };
    const bad = {
      values: { auc: 0.9 },
      explanations: { method: 'permutation', metric: 'auc', evalSetDigest: 'not-a-digest', features: { amount: 0.2 } },
    };
    const { res, body } = await stageUpload(worker, 'fraud', artifacts, { metrics: bad as never });
    expect([res.status, body.error?.code]).toEqual([400, 'bad_request']);
    expect(await versions()).toEqual(before);
  });
});
