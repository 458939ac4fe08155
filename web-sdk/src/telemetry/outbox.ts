/**
 * @module telemetry/outbox
 * Uploads of sketches through a bounded queue persisted in IndexedDB: batched on flush, retried
 * with exponential backoff on network and 5xx errors, dropped (and counted, by reason) when the
 * queue is full or the server refuses them. Nothing here ever throws into the host app.
 */
import { APP_KEY_HEADER, PROOF_HEADER } from '@modelfleet/protocol';
import type { ModelStore, OutboxItem } from '../store.ts';
import { proofFor } from './proofs.ts';

export const OUTBOX_LIMIT = 64;
export type DropReason = 'queue_full' | 'rejected' | 'duplicate' | 'storage_error';

export type { OutboxItem };

export interface OutboxStats { queued: number; sent: number; dropped: Record<DropReason, number>; nextAttemptAt: number }

export function createOutbox(store: ModelStore, edge: { endpoint: string; appKey: string; fetch: typeof fetch }, deviceId: string, now: () => number = Date.now) {
  const stats: OutboxStats = { queued: 0, sent: 0, dropped: { queue_full: 0, rejected: 0, duplicate: 0, storage_error: 0 }, nextAttemptAt: 0 };
  let failures = 0;

  return {
    stats: async (): Promise<OutboxStats> => ({ ...stats, queued: (await store.db.count('outbox').catch(() => 0)), dropped: { ...stats.dropped } }),

    async enqueue(item: Omit<OutboxItem, 'id' | 'attempts'>): Promise<void> {
      try {
        if ((await store.db.count('outbox')) >= OUTBOX_LIMIT) {
          stats.dropped.queue_full++;
          return;
        }
        // One item per (model, version, window, channel, query): a step's "loaded" and "used" records are two.
        await store.db.put('outbox', { ...item, id: `${item.model}@${item.version}/${item.window}${item.channel && item.channel !== 'sketches' ? `/${item.channel}` : ''}${item.query ?? ''}`, attempts: 0 });
      } catch {
        stats.dropped.storage_error++;
      }
    },

    /** Sends what is queued, oldest first; stops at the first transient failure and backs off. */
    async flush(): Promise<void> {
      if (now() < stats.nextAttemptAt) return;
      let items: OutboxItem[];
      try {
        items = await store.db.getAll('outbox');
      } catch {
        stats.dropped.storage_error++;
        return;
      }
      for (const item of items) {
        let status: number;
        try {
          const proof = await proofFor(store, item.model, item.version);
          const res = await edge.fetch(`${edge.endpoint}/v1/edge/${item.channel ?? 'sketches'}/${encodeURIComponent(item.model)}/${item.version}?device=${encodeURIComponent(deviceId)}${item.query ?? ''}`, {
            method: 'POST', headers: { [APP_KEY_HEADER]: edge.appKey, 'content-type': 'application/octet-stream', ...(proof ? { [PROOF_HEADER]: proof } : {}) }, body: item.bytes as unknown as BodyInit,
          });
          status = res.status;
          await res.body?.cancel().catch(() => {});
        } catch {
          status = 0; // network
        }
        if (status === 0 || status >= 500 || status === 429) {
          failures++;
          stats.nextAttemptAt = now() + Math.min(3600_000, 1000 * 2 ** Math.min(failures, 12)) * (0.8 + Math.random() * 0.4);
          await store.db.put('outbox', { ...item, attempts: item.attempts + 1 }).catch(() => {});
          return;
        }
        failures = 0;
        if (status === 202) stats.sent++;
        else if (status === 409) stats.dropped.duplicate++;
        else stats.dropped.rejected++;
        await store.db.delete('outbox', item.id).catch(() => {});
      }
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
