/**
 * @module telemetry/sketcher
 * Sketches what a model sees and says, per window, without keeping raw inputs: a reservoir of
 * at most MAX_SAMPLES values per monitored feature (Algorithm R), turned into the protocol's
 * sketch at window end. Baseline feature i is input column i; with an output baseline, the
 * predicted class and its confidence are monitored too (prediction drift). Declared input
 * statistics (@input.<input>.<stat>) are not columns: the worker measures them per example and
 * they arrive by name.
 */
import {
  type Baseline,
  MAX_SAMPLES,
  type SketchLayout,
  type SketchUpload,
  monitoredFeatures,
  sketchCategorical,
  sketchNumeric,
} from '@modelfleet/protocol';

export interface Sketcher {
  readonly window: number;
  /**
   * `outputs`: the first output's rows (probabilities), when the model has one; `stats`: per
   * example, the worker's input statistics by feature name.
   */
  observe(rows: number[][], outputs?: number[][], stats?: Record<string, number>[]): void;
  /** The upload for this window, or null when no feature saw enough values. */
  build(): SketchUpload | null;
}

/** Top class and its probability; one sigmoid output is a binary classifier's positive class. */
export function topClass(probs: number[]): [number, number] | null {
  if (probs.length === 0 || !probs.every(Number.isFinite)) return null;
  const p = probs.length === 1 ? [1 - probs[0]!, probs[0]!] : probs;
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return [best, p[best]!];
}

export function createSketcher(
  baseline: Baseline,
  layout: SketchLayout,
  window: number,
  random: () => number = Math.random,
): Sketcher {
  const features = monitoredFeatures(baseline);
  // Column c of a row feeds the c-th tabular feature; declared statistics sit apart, by name.
  const columns = features.flatMap((f, i) => (f.source === 'input' ? [i] : []));
  const statAt = features.flatMap((f, i) => (f.source === 'input-stat' ? [i] : []));
  const classAt = features.findIndex((f) => f.source === 'output-class');
  const confidenceAt = features.findIndex((f) => f.source === 'output-confidence');
  const reservoirs = features.map(() => [] as (number | string | null)[]);
  const seen = features.map(() => 0);
  const keep = (f: number, v: number | string | null) => {
    const n = ++seen[f]!;
    const r = reservoirs[f]!;
    if (r.length < MAX_SAMPLES) r.push(v);
    else {
      const j = Math.floor(random() * n); // keep each value with probability MAX_SAMPLES / n
      if (j < MAX_SAMPLES) r[j] = v;
    }
  };
  return {
    window,
    observe(rows, outputs, stats) {
      for (const row of rows) {
        for (let c = 0; c < columns.length; c++) {
          const raw = row[c];
          keep(columns[c]!, typeof raw === 'number' && Number.isFinite(raw) ? raw : null);
        }
      }
      for (const example of statAt.length > 0 ? (stats ?? []) : []) {
        for (const f of statAt) {
          const v = example[features[f]!.name];
          keep(f, typeof v === 'number' && Number.isFinite(v) ? v : null);
        }
      }
      if (!outputs || (classAt < 0 && confidenceAt < 0)) return;
      for (const probs of outputs) {
        const top = topClass(probs);
        if (classAt >= 0) keep(classAt, top ? String(top[0]) : null);
        if (confidenceAt >= 0) keep(confidenceAt, top ? top[1] : null);
      }
    },
    build() {
      const sketches = features.map((f, i) => {
        const r = reservoirs[i]!;
        return f.kind === 'numeric'
          ? sketchNumeric(r as (number | null)[], f.edges, f.pit)
          : sketchCategorical(
              r.map((v) => (v === null ? null : String(v))),
              f.vocabulary,
            );
      });
      return sketches.some((s) => s !== null)
        ? { schemaDigest: layout.schemaDigest, window, features: sketches }
        : null;
    },
  };
}
