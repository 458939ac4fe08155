/**
 * @module health
 * Device health per model version and window (docs/architecture.md §6, §8): what share of loads failed or did
 * not verify, what share of predictions errored or returned non-finite numbers, the latency
 * histogram on fixed log bins, and which backend answered. It travels as a sketch against a
 * fixed, built-in baseline, so upload, validation, aggregation, DP release and replay refusal
 * are the drift pipeline's own; each device's shares sum to 1 per counter (one device, one vote).
 */
import type { Baseline } from './baseline.ts';
import { MAX_SAMPLES, type SketchLayout, sketchCategorical, sketchLayout, sketchNumeric } from './sketch.ts';
import type { SketchUpload } from './sketch-upload.ts';

/** Latency bin edges in ms: 0, 0.5, 1, 2 … 1024; slower calls land in the overflow bin. */
export const LATENCY_EDGES_MS = [0, ...Array.from({ length: 12 }, (_, i) => 2 ** (i - 1))];

export const LOAD_OUTCOMES = ['ok', 'load_failed', 'verify_failed'] as const;
export const PREDICT_OUTCOMES = ['ok', 'inference_error', 'non_finite'] as const;
export const BACKENDS = ['webgpu', 'wasm', 'cpu'] as const;
/** `model.feedback(label)`: whether the app's label matched the model's top class. */
export const FEEDBACK_OUTCOMES = ['correct', 'incorrect'] as const;

/**
 * A rollout step's records (`/v1/edge/step-health/…?rollout=<id>&phase=`): `loaded` once when the
 * device starts running the step's version (counted, never judged), `used` (the default) once
 * after some predictions (the analysis's sample).
 */
export const STEP_PHASES = ['loaded', 'used'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

/**
 * The aggregate a rollout step's uploads land in (the window is the step's ticket sequence):
 * health records by phase, and the step's drift sketches (`/v1/edge/step-sketches/…`, inputs and
 * outputs against the version's signed baseline) for prediction drift and estimated accuracy.
 */
export const stepCohort = (rollout: string, kind: StepPhase | 'sketches' = 'used') =>
  `step-${rollout}${kind === 'used' ? '' : `-${kind}`}`;

export const HEALTH_BASELINE: Baseline = {
  features: [
    { name: 'load', kind: 'categorical', vocabulary: [...LOAD_OUTCOMES] },
    { name: 'predict', kind: 'categorical', vocabulary: [...PREDICT_OUTCOMES] },
    { name: 'latency_ms', kind: 'numeric', edges: LATENCY_EDGES_MS },
    { name: 'backend', kind: 'categorical', vocabulary: [...BACKENDS] },
    { name: 'feedback', kind: 'categorical', vocabulary: [...FEEDBACK_OUTCOMES] },
  ],
};

let layout: Promise<SketchLayout> | undefined;
export const healthLayout = (): Promise<SketchLayout> => (layout ??= sketchLayout(HEALTH_BASELINE));

export interface HealthCounts {
  load: Partial<Record<(typeof LOAD_OUTCOMES)[number], number>>;
  predict: Partial<Record<(typeof PREDICT_OUTCOMES)[number], number>>;
  /** Up to MAX_SAMPLES latencies (a reservoir sample), ms. */
  latencies: number[];
  backend: Partial<Record<(typeof BACKENDS)[number], number>>;
  feedback?: Partial<Record<(typeof FEEDBACK_OUTCOMES)[number], number>>;
}

const expand = (counts: Record<string, number | undefined>) =>
  Object.entries(counts).flatMap(([k, n]) => new Array<string>(Math.max(0, Math.floor(n ?? 0))).fill(k));

/**
 * One device's health upload for a window. Counters are turned into shares; to keep every
 * device's work bounded, a counter's share is computed over at most 4096 events.
 */
export async function healthUpload(counts: HealthCounts, window: number): Promise<SketchUpload | null> {
  const l = await healthLayout();
  const cap = (c: Record<string, number | undefined>) => {
    const total = Object.values(c).reduce<number>((a, b) => a + (b ?? 0), 0);
    const scale = total > 4096 ? 4096 / total : 1;
    return Object.fromEntries(Object.entries(c).map(([k, n]) => [k, Math.round((n ?? 0) * scale)]));
  };
  const features = [
    sketchCategorical(expand(cap(counts.load)), [...LOAD_OUTCOMES], 1),
    sketchCategorical(expand(cap(counts.predict)), [...PREDICT_OUTCOMES], 1),
    counts.latencies.length > 0 ? sketchNumeric(counts.latencies.slice(0, MAX_SAMPLES), LATENCY_EDGES_MS) : null,
    sketchCategorical(expand(cap(counts.backend)), [...BACKENDS], 1),
    sketchCategorical(expand(cap(counts.feedback ?? {})), [...FEEDBACK_OUTCOMES], 1),
  ];
  if (features.every((f) => f === null)) return null;
  return { schemaDigest: l.schemaDigest, window, features };
}
