/**
 * @module telemetry/windows
 * Which telemetry window it is, per model (SPEC 10.6, 1.7): windows of the length the model's
 * latest verified ticket names (`windowSeconds`, kept with the ticket by sync.ts), UTC days when
 * it names none. Health records and sketches are stamped with it, and a window is sent once the
 * model's current window is another.
 */
import { DAY_SECONDS, windowOf } from '@modelfleet/protocol';
import { type Report, silent } from '../report.ts';
import type { ModelStore } from '../store.ts';

export function createWindowClock(store: ModelStore, now: () => Date, report: Report = silent) {
  const lengths = new Map<string, number>();
  return {
    /** The model's current window. */
    current: (model: string): number => windowOf(now(), lengths.get(model) ?? DAY_SECONDS),
    /** Takes the window length of the model's stored ticket (after each sync, successful or not). */
    async learn(model: string): Promise<void> {
      // Unreadable: reported, and the window is a UTC day until the next sync reads it.
      const state = await store.state(model).catch((e) => void report('storage_read', e, { model }));
      const seconds = state?.ticket?.windowSeconds;
      lengths.set(model, seconds ?? DAY_SECONDS);
    },
  };
}
