/**
 * @module client
 * `createClient` → `client.load(name)` → `model.predict(input)`. The client keeps a verified
 * cache (sync.ts), runs inference through a Runner (a Web Worker in browsers, inline in tests),
 * polls for new tickets in the background, and swaps models only between calls. It is composed
 * of a delivery half (delivery.ts, loaded-model.ts) and a telemetry half
 * (telemetry/client-telemetry.ts), set up over one device (device.ts) and polled by poll.ts.
 */
import type { ClientOptions } from './client-options.ts';
import { type RunningModel, createDelivery } from './delivery.ts';
import { openDevice } from './device.ts';
import { SdkError } from './errors.ts';
import { type LoadOptions, type LoadedModel, loadModel } from './loaded-model.ts';
import { startPolling } from './poll.ts';
import { reporter } from './report.ts';
import type { ModelStatus } from './status.ts';
import { createClientTelemetry } from './telemetry/client-telemetry.ts';
import type { OutboxStats } from './telemetry/outbox.ts';

export type { ClientOptions } from './client-options.ts';
export type { Runner } from './runner.ts';
export type { ModelStatus } from './status.ts';
export type { LoadedModel, LoadOptions } from './loaded-model.ts';
export type { OutboxStats } from './telemetry/outbox.ts';
export { CLIENT_ISSUE_CODES, type ClientIssue, type ClientIssueCode } from './report.ts';

/** What `createClient` returns. */
export interface Client {
  /** This device's id: ClientOptions.deviceId, or a random one kept in the store across sessions. */
  readonly deviceId: string;
  /**
   * Syncs `name` and starts its active version in the runner. A failed sync falls back to the cached
   * verified version (recorded in status()); with none cached it throws an SdkError (`no_model`, or
   * the sync's own code such as `bad_signature`). `onProgress` reports ticket, manifest, download,
   * activate and load phases.
   */
  load(name: string, options?: LoadOptions): Promise<LoadedModel>;
  /**
   * Per loaded model: running and cached versions, state (ready, update-ready, stale, offline, error),
   * backend, backends that did not start, last error and last sync.
   */
  status(): Promise<Record<string, ModelStatus>>;
  /**
   * Ends this device's drift window now: the sketches go to the outbox and uploads are tried.
   * A device contributes once per window, so call it when the app is done for the window (the day, by default).
   */
  flush(): Promise<OutboxStats>;
  /** The outbox's counts: queued, sent, dropped by reason, and when the next upload is tried. */
  telemetry(): Promise<OutboxStats>;
  /** Stops polling, unloads every model and closes the store the client opened (not one the app passed). */
  close(): Promise<void>;
}

/**
 * A client over one device's cache. Throws `invalid_config` without endpoint, appKey or trustRoot,
 * and `storage_unavailable` when it cannot open IndexedDB.
 *
 * @example
 * const client = await createClient({ endpoint, appKey, trustRoot, runner: createEngine(), storage });
 * const model = await client.load('fraud');
 */
export async function createClient(options: ClientOptions): Promise<Client> {
  if (!options.endpoint || !options.appKey || !options.trustRoot) {
    throw new SdkError(
      'invalid_config',
      'createClient needs endpoint, appKey and trustRoot (the root.json your operator published)',
    );
  }
  const report = reporter(options.onError);
  const { store, deviceId, ctx } = await openDevice(options, report);
  const models = new Map<string, RunningModel>();
  const telemetry = createClientTelemetry({
    store,
    edge: ctx.edge,
    deviceId,
    now: ctx.now,
    enabled: options.telemetry !== false,
    runningVersion: (name) => models.get(name)?.version,
    report,
  });
  const delivery = createDelivery({
    ctx,
    runner: options.runner,
    telemetry,
    report,
    models,
    ...(options.backends ? { backends: options.backends } : {}),
    ...(options.staleAfter !== undefined ? { staleAfter: options.staleAfter } : {}),
  });
  const stopPolling = startPolling(delivery, options.pollInterval, report);
  return {
    deviceId,
    load: (name, opts) => loadModel(delivery, name, opts),
    status: () => delivery.status(),
    flush: () => telemetry.flush(),
    telemetry: () => telemetry.stats(),
    async close() {
      stopPolling();
      await delivery.close();
      if (typeof options.storage !== 'object') store.close();
    },
  };
}
