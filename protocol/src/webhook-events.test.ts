// Every webhook event type has a data schema, and CloudEvent holds each type to its own.
// Real emitted events are parsed with these schemas where tests capture deliveries:
// test/registry/webhooks.test.ts (drift alarm, retrain request, ping) and
// test/registry/rollout-analysis.test.ts (rollout transitions).
import { describe, expect, it } from 'vitest';
import { CloudEvent } from './webhook.ts';
import { EVENT_DATA, EVENT_TYPES } from './webhook-events.ts';

const envelope = {
  specversion: '1.0',
  id: 'e1',
  source: '/v1',
  time: '2026-11-22T00:00:00.000Z',
  datacontenttype: 'application/json',
};

describe('webhook event data', () => {
  it('has a schema for every event type, and none for a type not in EVENT_TYPES', () => {
    expect(Object.keys(EVENT_DATA).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('each schema asks for its fields: an empty object is refused for every type', () => {
    for (const type of EVENT_TYPES) expect(EVENT_DATA[type].safeParse({}).success, type).toBe(false);
  });

  it("a CloudEvent's data is parsed by its type: a ping's data under another type is refused", () => {
    const ping = { webhook: 'wh_0123456789abcdef' };
    expect(CloudEvent.safeParse({ ...envelope, type: 'dev.modelfleet.webhook.ping', data: ping }).success).toBe(true);
    for (const type of EVENT_TYPES.filter((t) => t !== 'dev.modelfleet.webhook.ping')) {
      expect(CloudEvent.safeParse({ ...envelope, type, data: ping }).success, type).toBe(false);
    }
  });
});
