// Webhook targets (issue 15), against the real Worker in workerd. Before this change:
//  - an admin could point a webhook at loopback, private or link-local space (cloud metadata at
//    169.254.169.254), in any spelling the URL parser accepts (2130706433, 0x7f.1, [::ffff:…]),
//    and the control plane would POST there;
//  - a webhook's full URL — a receiver's credential often sits in its path or query — reached
//    every viewer through /v1/audit (and the list needed operator, where it was shown whole).
// Here the worker runs without WEBHOOK_ALLOW_HOSTS, as a deployment does. Each test failed on that code.
import { newWebhookSecret } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../fixtures/drift.ts';
import { pollUntil } from '../harness/poll.ts';
import { type Receiver, startReceiver } from '../harness/webhook-receiver.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let receiver: Receiver;
let viewer: string;
const events = ['dev.modelfleet.drift.alarm'];

const register = async (url: string, token?: string) => {
  const res = await worker.api('/v1/webhooks', { method: 'POST', json: { url, events }, ...(token ? { token } : {}) });
  return { status: res.status, body: (await res.json()) as any };
};
const stored = async () => ({
  webhooks: (await worker.db.prepare('SELECT id, url FROM webhooks ORDER BY id').all()).results,
  audit: (await worker.db.prepare('SELECT id FROM audit ORDER BY id').all()).results,
});

beforeAll(async () => {
  worker = await startWorker({ vars: { WEBHOOK_ALLOW_HOSTS: '' } });
  receiver = await startReceiver();
  viewer = await createToken(worker, 'viewer');
});
afterAll(async () => {
  await receiver?.close();
  await worker?.dispose();
});

describe('registration refuses private targets', () => {
  const forbidden = [
    'https://127.0.0.1/hook',
    'https://127.8.9.10/',
    'https://localhost/hook',
    'https://hooks.localhost/',
    'https://localhost./',
    'https://[::1]/hook',
    'https://[0:0:0:0:0:0:0:1]/',
    'https://10.0.0.5/',
    'https://172.16.0.1/',
    'https://172.31.255.254/',
    'https://192.168.1.20:8443/x',
    'https://[fc00::1]/',
    'https://[fd12:3456:789a::1]/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fe80::1]/',
    'https://[febf::1]/',
    'https://0.0.0.0/',
    'https://0/',
    'https://[::]/',
    'https://100.100.100.200/',
    // IPv4-mapped, -compatible and NAT64 IPv6 forms of the same
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:10.1.2.3]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[0:0:0:0:0:ffff:c0a8:0101]/',
    'https://[::127.0.0.1]/',
    'https://[64:ff9b::192.168.0.1]/',
    // decimal, hex and octal IPv4 encodings
    'https://2130706433/',
    'https://0x7f000001/',
    'https://0x7f.1/',
    'https://0177.0.0.1/',
    'https://017700000001/',
    'https://3232235777/',
    'https://0xa9.0xfe.0xa9.0xfe/',
  ];

  it.each(forbidden)('%s → 422 webhook_target_forbidden, nothing stored', async (url) => {
    const before = await stored();
    const r = await register(url);
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('webhook_target_forbidden');
    expect(await stored()).toEqual(before);
  });

  it('plain http to a loopback address in any spelling is refused too (it used to be allowed to "localhost")', async () => {
    const before = await stored();
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://2130706433/',
      'http://localhost/',
      'http://[::1]/',
      'http://0x7f.1/',
    ]) {
      const r = await register(url);
      expect(r.status, url).toBe(422);
      expect(r.body.error.code, url).toMatch(/^webhook_(url_invalid|target_forbidden)$/);
    }
    expect(await stored()).toEqual(before);
  });

  it('public hosts, including look-alikes of private ranges, are still accepted', async () => {
    for (const url of [
      'https://hooks.example.com/a',
      'https://172.32.0.1/',
      'https://192.169.0.1/',
      'https://[2001:db8::1]/',
      'https://[::ffff:8.8.8.8]/',
    ]) {
      expect((await register(url)).status, url).toBe(201);
    }
  });
});

describe('delivery checks the target again', () => {
  it('a loopback webhook stored before the check (or since taken off the allow-list) fails without a request', async () => {
    const id = 'wh_00000000000000aa';
    await worker.db
      .prepare(
        'INSERT INTO webhooks (id, url, secret, events, model_id, description, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)',
      )
      .bind(
        id,
        `${receiver.url}/old`,
        newWebhookSecret(),
        JSON.stringify(['dev.modelfleet.webhook.ping']),
        'registered before issue 15',
        new Date().toISOString(),
      )
      .run();
    expect((await worker.api(`/v1/webhooks/${id}/ping`, { method: 'POST' })).status).toBe(202);
    const [delivery] = await pollUntil(
      async () =>
        ((await (await worker.api(`/v1/deliveries?webhook=${id}`)).json()) as { deliveries: any[] }).deliveries,
      (d) => d.length === 1 && d[0].status !== 'pending',
      { what: 'the ping to settle', timeoutMs: 15_000, everyMs: 50 },
    );
    expect(delivery).toMatchObject({
      status: 'failed',
      lastStatus: null,
      lastError: expect.stringContaining('target refused'),
    });
    expect(receiver.received).toHaveLength(0);
  });
});

describe('readers below admin see webhook hosts only', () => {
  it('in the webhook list and in the audit log; the signing secret only ever in the creation answer', async () => {
    const url = 'https://hooks.example.net/services/T0KEN-PATH?token=QUERY-SECRET';
    const created = await register(url);
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);

    const list = await worker.api('/v1/webhooks', { token: viewer });
    expect(list.status).toBe(200);
    const listText = await list.text();
    const hook = (JSON.parse(listText) as { webhooks: any[] }).webhooks.find((w) => w.id === created.body.id);
    expect(hook.url).toBe('https://hooks.example.net');

    const audit = await worker.api(`/v1/audit?subject=webhook/${created.body.id}`, { token: viewer });
    expect(audit.status).toBe(200);
    const auditText = await audit.text();
    expect((JSON.parse(auditText) as { records: any[] }).records[0].after.url).toBe('https://hooks.example.net');

    // Deleting it writes the URL into the audit log again (before): still host only.
    expect((await worker.api(`/v1/webhooks/${created.body.id}`, { method: 'DELETE' })).status).toBe(204);
    const afterDelete = await (await worker.api(`/v1/audit?action=webhook`, { token: viewer })).text();
    for (const text of [listText, auditText, afterDelete]) {
      expect(text).not.toContain('T0KEN-PATH');
      expect(text).not.toContain('QUERY-SECRET');
      expect(text).not.toContain(secret);
    }

    // The admin who set it up sees the URL whole; nobody sees the signing secret again.
    const adminAudit = await (await worker.api(`/v1/audit?subject=webhook/${created.body.id}`)).text();
    expect(adminAudit).toContain('QUERY-SECRET');
    expect(adminAudit).not.toContain(secret);
    expect(await (await worker.api('/v1/webhooks')).text()).not.toContain('whsec_');
  });
});
