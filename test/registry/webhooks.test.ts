// Webhooks: registration rules, the drift alarm delivered as a signed CloudEvent through the
// real queue, retries with backoff and the delivery log, permanent failure and manual
// redelivery, model scoping, deletion, and the sweep that re-queues lost messages.
import { createHmac } from 'node:crypto';
import { type CloudEvent, EVENT_DATA, verifyWebhook, windowOf } from '@modelfleet/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { baseline, createApp, createToken, uploadSketch } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type Receiver, header, startReceiver } from '../harness/webhook-receiver.ts';
import { pollUntil } from '../harness/poll.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let receiver: Receiver;
let appKey: string;
const today = windowOf(new Date());

async function register(body: Record<string, unknown>, token?: string) {
  const res = await worker.api('/v1/webhooks', { method: 'POST', json: body, ...(token ? { token } : {}) });
  return { res, body: (await res.json()) as any };
}
const deliveries = async (query = '') =>
  ((await (await worker.api(`/v1/deliveries${query}`)).json()) as any).deliveries as any[];
const webhookRows = async () => (await worker.db.prepare('SELECT id FROM webhooks').all()).results;

const until = async <T>(what: string, f: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> =>
  (await pollUntil(f, Boolean, { what, timeoutMs: ms, everyMs: 50 })) as T;

/** Checks the signature with node:crypto alone, as a receiver without our library would. */
function independentlyValid(secret: string, id: string, ts: string, body: string, signature: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return signature.split(' ').includes(`v1,${expected}`);
}

beforeAll(async () => {
  worker = await startWorker({ vars: { DRIFT_MIN_DEVICES: '20', DRIFT_EPSILON_PER_DAY: '1000' } });
  receiver = await startReceiver();
  for (const name of ['fraud', 'other']) {
    await createModel(worker, name);
    expect((await publish(worker, name, await buildLayersModel({ seed: 3, inputs: 3 }), { baseline })).res.status).toBe(
      201,
    );
  }
  appKey = await createApp(worker);
});
afterAll(async () => {
  await receiver?.close();
  await worker?.dispose();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.script([]);
});

describe('registration', () => {
  it('needs admin, and refuses bad URLs, unknown events and unknown models without writing', async () => {
    const operator = await createToken(worker, 'operator');
    const before = await webhookRows();
    expect(
      (await register({ url: `${receiver.url}/x`, events: ['dev.modelfleet.drift.alarm'] }, operator)).res.status,
    ).toBe(403);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ url: 'http://example.com/hook', events: ['dev.modelfleet.drift.alarm'] }, 422, 'webhook_url_invalid'],
      [{ url: 'https://user:pw@example.com/hook', events: ['dev.modelfleet.drift.alarm'] }, 422, 'webhook_url_invalid'],
      [{ url: 'ftp://example.com/hook', events: ['dev.modelfleet.drift.alarm'] }, 400, 'bad_request'],
      [{ url: 'https://example.com/hook', events: ['dev.modelfleet.nope'] }, 400, 'bad_request'],
      [{ url: 'https://example.com/hook', events: [] }, 400, 'bad_request'],
      [
        { url: 'https://example.com/hook', events: ['dev.modelfleet.drift.alarm'], model: 'ghost' },
        404,
        'unknown_model',
      ],
      [{ url: 'https://example.com/hook', events: ['dev.modelfleet.drift.alarm'], extra: 1 }, 400, 'unknown_field'],
    ];
    for (const [body, status, code] of cases) {
      const r = await register(body);
      expect([r.res.status, r.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect(await webhookRows()).toEqual(before);
  });

  it('shows the secret once; lists never carry it', async () => {
    const r = await register({
      url: 'https://hooks.example.com/a',
      events: ['dev.modelfleet.drift.alarm'],
      description: 'pager',
    });
    expect(r.res.status).toBe(201);
    expect(r.body.secret).toMatch(/^whsec_/);
    const list = await (await worker.api('/v1/webhooks')).text();
    expect(list).toContain(r.body.id);
    expect(list).not.toContain(r.body.secret);
    expect((await worker.api(`/v1/webhooks/${r.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await worker.api('/v1/webhooks')).text()).not.toContain(r.body.id);
  });
});

describe('delivery', () => {
  let hook: { id: string; secret: string };
  let scoped: { id: string; secret: string };

  beforeAll(async () => {
    hook = (await register({ url: `${receiver.url}/alarms`, events: ['dev.modelfleet.drift.alarm'] })).body;
    // Scoped to another model: must never see fraud's alarm.
    scoped = (
      await register({ url: `${receiver.url}/other-only`, events: ['dev.modelfleet.drift.alarm'], model: 'other' })
    ).body;
  });

  it('a drift alarm reaches the receiver as a signed CloudEvent, after retries, logged', async () => {
    for (let d = 0; d < 25; d++)
      expect((await uploadSketch(worker, appKey, `dev-${'x'.repeat(d)}`, 1.5)).status).toBe(202);
    receiver.script([500, 503]); // two failures, then 200
    const close = await worker.api(`/v1/models/fraud/versions/1/sketches/${today}/close`, { method: 'POST' });
    expect(((await close.json()) as any).alarm).toBe(true);

    const got = await receiver.waitFor(3);
    expect(got.map((r) => r.path)).toEqual(['/alarms', '/alarms', '/alarms']);
    // Retries carry the same event id and body; each attempt is signed afresh.
    expect(new Set(got.map((r) => header(r, 'webhook-id'))).size).toBe(1);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    const last = got[2]!;
    expect(header(last, 'content-type')).toContain('application/cloudevents+json');
    expect(
      independentlyValid(
        hook.secret,
        header(last, 'webhook-id'),
        header(last, 'webhook-timestamp'),
        last.body,
        header(last, 'webhook-signature'),
      ),
    ).toBe(true);
    const event: CloudEvent = await verifyWebhook(
      hook.secret,
      new Headers(last.headers as Record<string, string>),
      last.body,
    );
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'dev.modelfleet.drift.alarm',
      id: `drift.alarm/fraud/1/${today}`,
      source: '/v1/models/fraud',
    });
    expect((event.data as any).features.map((f: any) => f.name)).toEqual(['f0']);
    expect((event.data as any).devices).toBe(25);
    // A tampered body or another secret fails verification.
    await expect(
      verifyWebhook(hook.secret, new Headers(last.headers as Record<string, string>), last.body.replace('f0', 'f1')),
    ).rejects.toMatchObject({ code: 'bad_signature' });
    const other = (await register({ url: 'https://x.example.com', events: ['dev.modelfleet.webhook.ping'] })).body
      .secret;
    await expect(
      verifyWebhook(other, new Headers(last.headers as Record<string, string>), last.body),
    ).rejects.toMatchObject({ code: 'bad_signature' });
    await expect(
      verifyWebhook(hook.secret, new Headers(last.headers as Record<string, string>), last.body, Date.now() + 3600_000),
    ).rejects.toMatchObject({ code: 'webhook_stale' });

    const log = await until('delivered', async () =>
      (await deliveries(`?webhook=${hook.id}`)).find((d) => d.status === 'delivered'),
    );
    expect(log).toMatchObject({
      type: 'dev.modelfleet.drift.alarm',
      attempts: 3,
      lastStatus: 200,
      eventId: `drift.alarm/fraud/1/${today}`,
    });
    expect(await deliveries(`?webhook=${scoped.id}`)).toEqual([]);
    // Closing again is idempotent and sends nothing new. Deliveries are written in the same batch as
    // the change (a transactional outbox), so once the close has answered the log is final: no new
    // row means nothing can reach the receiver.
    const before = await deliveries(`?webhook=${hook.id}`);
    expect((await worker.api(`/v1/models/fraud/versions/1/sketches/${today}/close`, { method: 'POST' })).status).toBe(
      200,
    );
    expect(await deliveries(`?webhook=${hook.id}`)).toEqual(before);
    expect(receiver.received).toHaveLength(3);
  });

  it('gives up after the attempt budget, keeps the error, and sends again on request', async () => {
    receiver.script([], 500);
    const ping = (await (await worker.api(`/v1/webhooks/${hook.id}/ping`, { method: 'POST' })).json()) as any;
    const failed = await until('failed', async () =>
      (await deliveries('?status=failed')).find((d) => d.eventId === ping.eventId),
    );
    expect(failed).toMatchObject({
      attempts: 8,
      lastStatus: 500,
      lastError: 'HTTP 500',
      type: 'dev.modelfleet.webhook.ping',
    });
    expect(receiver.received).toHaveLength(8);
    const viewer = await createToken(worker, 'viewer');
    expect((await worker.api(`/v1/deliveries/${failed.id}/retry`, { method: 'POST', token: viewer })).status).toBe(403);
    receiver.script([]);
    expect((await worker.api(`/v1/deliveries/${failed.id}/retry`, { method: 'POST' })).status).toBe(202);
    await until('redelivered', async () =>
      (await deliveries(`?webhook=${hook.id}&status=delivered`)).find((d) => d.id === failed.id),
    );
    const again = await worker.api(`/v1/deliveries/${failed.id}/retry`, { method: 'POST' });
    expect([again.status, ((await again.json()) as any).error.code]).toEqual([409, 'conflict']);
  });

  it('the sweep re-queues a delivery whose message was lost', async () => {
    // A pending row with no queue message, overdue: what a failed enqueue leaves behind.
    const payload = JSON.stringify({
      specversion: '1.0',
      id: 'lost-1',
      source: '/v1',
      type: 'dev.modelfleet.webhook.ping',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: {},
    });
    const old = new Date(Date.now() - 3600_000).toISOString();
    await worker.db
      .prepare(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, type, payload, status, attempts, next_attempt_at, created_at, updated_at) VALUES (?, 'lost-1', 'dev.modelfleet.webhook.ping', ?, 'pending', 0, ?, ?, ?)",
      )
      .bind(hook.id, payload, old, old, old)
      .run();
    await worker.trigger('*/5 * * * *', new Date());
    const [got] = await receiver.waitFor(1);
    expect(header(got!, 'webhook-id')).toBe('lost-1');
    await until('swept delivery logged', async () =>
      (await deliveries(`?webhook=${hook.id}&status=delivered`)).find((d) => d.eventId === 'lost-1'),
    );
  });

  it('every drift event and a ping arrive with data as protocol says for their type', async () => {
    // Another model's drifted window: both alarm hooks get its alarm, a third hook its retrain
    // request (one of three features alarmed: the share rule asks for retraining) and a ping.
    const events = ['dev.modelfleet.drift.retrain_requested'];
    const retrain = (await register({ url: `${receiver.url}/retrain`, events, model: 'other' })).body;
    for (let d = 0; d < 25; d++) {
      expect((await uploadSketch(worker, appKey, `o-${'x'.repeat(d)}`, 1.5, { model: 'other' })).status).toBe(202);
    }
    const close = await worker.api(`/v1/models/other/versions/1/sketches/${today}/close`, { method: 'POST' });
    expect(close.status).toBe(200);
    expect((await worker.api(`/v1/webhooks/${retrain.id}/ping`, { method: 'POST' })).status).toBe(202);
    const got = await receiver.waitFor(4);
    const secrets: Record<string, string> = {
      '/retrain': retrain.secret,
      '/other-only': scoped.secret,
      '/alarms': hook.secret,
    };
    const verify = (g: (typeof got)[number]) =>
      verifyWebhook(secrets[g.path]!, new Headers(g.headers as Record<string, string>), g.body);
    const verified = await Promise.all(got.map(verify));
    expect(verified.map((e) => e.type).sort()).toEqual([
      'dev.modelfleet.drift.alarm',
      'dev.modelfleet.drift.alarm',
      'dev.modelfleet.drift.retrain_requested',
      'dev.modelfleet.webhook.ping',
    ]);
    for (const [i, e] of verified.entries()) {
      // The body's data as sent, not only as verifyWebhook's parse kept it: nothing the schema lacks.
      const sent = (JSON.parse(got[i]!.body) as { data: Record<string, unknown> }).data;
      expect(EVENT_DATA[e.type].parse(sent), e.type).toEqual(sent);
    }
    const asked = verified.find((e) => e.type === 'dev.modelfleet.drift.retrain_requested');
    expect(asked!.data).toMatchObject({ model: 'other', reasons: ['share'] });
    await worker.api(`/v1/webhooks/${retrain.id}`, { method: 'DELETE' });
  });

  it('a deleted webhook receives nothing more; the log keeps its deliveries', async () => {
    expect((await worker.api(`/v1/webhooks/${hook.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await worker.api(`/v1/webhooks/${hook.id}/ping`, { method: 'POST' })).status).toBe(404);
    expect((await deliveries(`?webhook=${hook.id}`)).length).toBeGreaterThanOrEqual(3);
    const audit = ((await (await worker.api(`/v1/audit?subject=webhook/${hook.id}`)).json()) as any).records.map(
      (r: any) => r.action,
    );
    expect(audit).toEqual(['webhook.delete', 'webhook.create']);
  });
});
