import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, verifyWebhook } from './webhook.ts';

const event = (id: string) =>
  JSON.stringify({
    specversion: '1.0',
    id,
    source: '/v1',
    type: 'dev.modelfleet.webhook.ping',
    time: '2026-11-22T00:00:00.000Z',
    datacontenttype: 'application/json',
    data: { webhook: 'wh_0123456789abcdef' },
  });

describe('webhook signatures (Standard Webhooks)', () => {
  it('matches the Standard Webhooks reference vector', async () => {
    // From the Standard Webhooks / svix reference test suite.
    const h = await signWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(h['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('round-trips, accepts any of several signatures (secret rotation), refuses the rest', async () => {
    const secret = newWebhookSecret();
    const old = newWebhookSecret();
    const body = event('e1');
    const now = 1_800_000_000_000;
    const h = await signWebhook(secret, 'e1', now / 1000, body);
    const oldSig = (await signWebhook(old, 'e1', now / 1000, body))['webhook-signature']!;
    const headers = (sig: string) => new Headers({ ...h, 'webhook-signature': sig });
    expect((await verifyWebhook(secret, new Headers(h), body, now)).id).toBe('e1');
    expect((await verifyWebhook(secret, headers(`${oldSig} ${h['webhook-signature']}`), body, now)).id).toBe('e1');
    await expect(verifyWebhook(secret, headers(oldSig), body, now)).rejects.toMatchObject({ code: 'bad_signature' });
    await expect(verifyWebhook(secret, headers('v1,not base64!'), body, now)).rejects.toMatchObject({
      code: 'bad_signature',
    });
    await expect(verifyWebhook(secret, new Headers(h), body + ' ', now)).rejects.toMatchObject({
      code: 'bad_signature',
    });
    await expect(verifyWebhook(secret, new Headers(h), body, now + 301_000)).rejects.toMatchObject({
      code: 'webhook_stale',
    });
    // A valid signature over a body whose event id differs from webhook-id is refused.
    const swapped = await signWebhook(secret, 'e2', now / 1000, body);
    await expect(verifyWebhook(secret, new Headers(swapped), body, now)).rejects.toMatchObject({
      code: 'bad_signature',
    });
    // Signed, but not a CloudEvent.
    const junk = await signWebhook(secret, 'e1', now / 1000, '{"a":1}');
    await expect(verifyWebhook(secret, new Headers(junk), '{"a":1}', now)).rejects.toMatchObject({
      code: 'malformed_document',
    });
  });
});
