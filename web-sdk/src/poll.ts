/**
 * @module poll
 * The client's background poll: every `interval` ms, jittered so a fleet started together does
 * not poll together, it syncs each loaded model, lets telemetry follow rollout steps and close
 * ended windows, and tries the queued uploads. Nothing a poll does throws into the host.
 */
import type { Delivery } from './delivery.ts';
import type { Report } from './report.ts';

/** ±20 % around the interval (ClientOptions.pollInterval). */
export const POLL_JITTER = 0.2;

/** Starts polling (an interval of 0 or undefined does nothing); the returned function stops it. */
export function startPolling(d: Delivery, interval: number | undefined, report: Report): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (): void => {
    if (!interval || d.closed) return;
    const jitter = 1 - POLL_JITTER + Math.random() * 2 * POLL_JITTER;
    timer = setTimeout(async () => {
      for (const name of d.models.keys()) {
        // A failed sync is also in status().lastError; the cached version keeps running.
        await d.sync(name).catch((e) => report('background_sync', e, { model: name }));
        await d.telemetry.polled(name);
      }
      await d.telemetry.upload();
      schedule();
    }, interval * jitter);
  };
  schedule();
  return () => clearTimeout(timer);
}
