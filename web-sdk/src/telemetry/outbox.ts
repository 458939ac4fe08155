/**
 * @module telemetry/outbox
 * Uploads of sketches through a bounded queue persisted in IndexedDB: batched on flush, retried
 * with exponential backoff on network and 5xx errors, dropped (and counted, by reason) when the
 * queue is full or the server refuses them. Nothing here ever throws into the host app.
 */
import { APP_KEY_HEADER, PROOF_HEADER } from '@modelfleet/protocol';
import type { ModelStore, OutboxItem } from '../store.ts';
import { proofFor } from './proofs.ts';
import type { EdgeClient } from '../http.ts';
import { type Report, silent } from '../report.ts';

export const OUTBOX_LIMIT = 64;
/** Backoff after a transient failure: 2 s after the first, doubling up to 2^12 s, capped at an hour. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_DOUBLINGS = 12;
const BACKOFF_CAP_MS = 3_600_000;
/** ±20 % jitter, so devices that failed together do not retry together. */
const BACKOFF_JITTER = 0.2;
export type DropReason = 'queue_full' | 'rejected' | 'duplicate' | 'storage_error';

export type { OutboxItem };

export interface OutboxStats {
  queued: number;
  sent: number;
  dropped: Record<DropReason, number>;
  nextAttemptAt: number;
}

/** How long to wait after the `failures`-th transient failure in a row. */
function backoffMs(failures: number): number {
  const jitter = 1 - BACKOFF_JITTER + Math.random() * 2 * BACKOFF_JITTER;
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures, BACKOFF_MAX_DOUBLINGS)) * jitter;
}

/** `report`: the client's onError hook; every failure caught here goes to it (and drops are also counted). */
export function createOutbox(
  store: ModelStore,
  edge: EdgeClient,
  deviceId: string,
  now: () => number = Date.now,
  report: Report = silent,
) {
  const stats: OutboxStats = {
    queued: 0,
    sent: 0,
    dropped: { queue_full: 0, rejected: 0, duplicate: 0, storage_error: 0 },
    nextAttemptAt: 0,
  };
  let failures = 0;
  const about = (item: Omit<OutboxItem, 'id' | 'attempts'>) => ({
    model: item.model,
    version: item.version,
    channel: item.channel ?? 'sketches',
  });
  const queued = () =>
    store.db.count('outbox').catch((e) => {
      report('storage_read', e);
      return 0;
    });

  return {
    stats: async (): Promise<OutboxStats> => ({ ...stats, queued: await queued(), dropped: { ...stats.dropped } }),

    async enqueue(item: Omit<OutboxItem, 'id' | 'attempts'>): Promise<void> {
      try {
        if ((await store.db.count('outbox')) >= OUTBOX_LIMIT) {
          stats.dropped.queue_full++;
          return;
        }
        // One item per (model, version, window, channel, query): a step's "loaded" and "used" records are two.
        await store.db.put('outbox', {
          ...item,
          id: `${item.model}@${item.version}/${item.window}${item.channel && item.channel !== 'sketches' ? `/${item.channel}` : ''}${item.query ?? ''}`,
          attempts: 0,
        });
      } catch (e) {
        stats.dropped.storage_error++;
        report('storage_write', e, about(item));
      }
    },

    /** Sends what is queued, oldest first; stops at the first transient failure and backs off. */
    async flush(): Promise<void> {
      if (now() < stats.nextAttemptAt) return;
      let items: OutboxItem[];
      try {
        items = await store.db.getAll('outbox');
      } catch (e) {
        stats.dropped.storage_error++;
        report('storage_read', e);
        return;
      }
      for (const item of items) {
        let status: number;
        try {
          const proof = await proofFor(store, item.model, item.version, report);
          const res = await edge.fetch(
            `${edge.endpoint}/v1/edge/${item.channel ?? 'sketches'}/${encodeURIComponent(item.model)}/${item.version}?device=${encodeURIComponent(deviceId)}${item.query ?? ''}`,
            {
              method: 'POST',
              headers: {
                [APP_KEY_HEADER]: edge.appKey,
                'content-type': 'application/octet-stream',
                ...(proof ? { [PROOF_HEADER]: proof } : {}),
              },
              body: item.bytes as unknown as BodyInit,
            },
          );
          status = res.status;
          // Releasing the connection is best effort: the answer is already counted, nothing is lost.
          await res.body?.cancel().catch(() => {});
        } catch (e) {
          status = 0; // network
          report('upload_failed', e, about(item));
        }
        if (status === 0 || status >= 500 || status === 429) {
          failures++;
          stats.nextAttemptAt = now() + backoffMs(failures);
          await store.db
            .put('outbox', { ...item, attempts: item.attempts + 1 })
            .catch((e) => report('storage_write', e, about(item)));
          return;
        }
        failures = 0;
        if (status === 202) stats.sent++;
        else if (status === 409) stats.dropped.duplicate++;
        else stats.dropped.rejected++;
        await store.db.delete('outbox', item.id).catch((e) => report('storage_write', e, about(item)));
      }
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
