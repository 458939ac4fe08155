/**
 * @module telemetry/health
 * Device health per model version and window: load and verify outcomes, predict outcomes
 * (errors, non-finite outputs), a reservoir of latencies and the answering backend. Built into
 * the protocol's health upload at window end; counting never throws into the host app.
 */
import { type Backend, type HealthCounts, MAX_SAMPLES, type SketchUpload, healthUpload } from '@modelfleet/protocol';

/** Sync failures that mean "did not verify", as opposed to being offline or out of space. */
const VERIFY_CODES = new Set([
  'bad_signature',
  'threshold_not_met',
  'unknown_key',
  'ticket_expired',
  'ticket_replayed',
  'manifest_digest_mismatch',
  'ticket_manifest_mismatch',
  'chunk_digest_mismatch',
  'root_invalid',
  'root_expired',
  'malformed_document',
  'manifest_too_large',
]);

export interface HealthRecorder {
  readonly window: number;
  load(outcome: 'ok' | 'load_failed'): void;
  /** A failed sync: counted as verify_failed when the code says the bytes or signatures were wrong. */
  syncFailed(code: string): void;
  predict(outcome: 'ok' | 'inference_error' | 'non_finite', ms: number, backend: Backend | null): void;
  feedback(correct: boolean): void;
  /** Predictions recorded so far (a step record waits for a few). */
  predictions(): number;
  build(): Promise<SketchUpload | null>;
}

/** True when every number in a (nested) output is finite. */
export function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (ArrayBuffer.isView(value)) return Array.prototype.every.call(value, Number.isFinite);
  if (value && typeof value === 'object') return Object.values(value).every(allFinite);
  return true;
}

export function createHealthRecorder(window: number, random: () => number = Math.random): HealthRecorder {
  const counts: HealthCounts = { load: {}, predict: {}, latencies: [], backend: {}, feedback: {} };
  let latencySeen = 0;
  const bump = <K extends string>(c: Partial<Record<K, number>>, k: K) => void (c[k] = (c[k] ?? 0) + 1);
  return {
    window,
    load: (outcome) => bump(counts.load, outcome),
    syncFailed(code) {
      if (VERIFY_CODES.has(code)) bump(counts.load, 'verify_failed');
    },
    predict(outcome, ms, backend) {
      bump(counts.predict, outcome);
      if (backend) bump(counts.backend, backend);
      if (outcome === 'inference_error') return;
      const n = ++latencySeen;
      if (counts.latencies.length < MAX_SAMPLES) counts.latencies.push(ms);
      else {
        const j = Math.floor(random() * n);
        if (j < MAX_SAMPLES) counts.latencies[j] = ms;
      }
    },
    feedback: (correct) => bump(counts.feedback!, correct ? 'correct' : 'incorrect'),
    predictions: () => Object.values(counts.predict).reduce<number>((a, b) => a + (b ?? 0), 0),
    build: () => healthUpload(counts, window),
  };
}
