/**
 * @module telemetry/sketcher
 * Sketches what a model sees, per window, without keeping raw inputs: a reservoir of at most
 * MAX_SAMPLES values per feature (Algorithm R), turned into the protocol's sketch at window end.
 * Baseline feature i is input column i.
 */
import { type Baseline, MAX_SAMPLES, type SketchLayout, type SketchUpload, sketchCategorical, sketchNumeric } from '@modelfleet/protocol';

export interface Sketcher {
  readonly window: number;
  observe(rows: number[][]): void;
  /** The upload for this window, or null when no feature saw enough values. */
  build(): SketchUpload | null;
}

export function createSketcher(baseline: Baseline, layout: SketchLayout, window: number, random: () => number = Math.random): Sketcher {
  const reservoirs = baseline.features.map(() => [] as (number | null)[]);
  const seen = baseline.features.map(() => 0);
  return {
    window,
    observe(rows) {
      for (const row of rows) {
        baseline.features.forEach((_, f) => {
          const raw = row[f];
          const v = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
          const n = ++seen[f]!;
          const r = reservoirs[f]!;
          if (r.length < MAX_SAMPLES) r.push(v);
          else {
            const j = Math.floor(random() * n); // keep each value with probability MAX_SAMPLES / n
            if (j < MAX_SAMPLES) r[j] = v;
          }
        });
      }
    },
    build() {
      const features = baseline.features.map((f, i) =>
        f.kind === 'numeric'
          ? sketchNumeric(reservoirs[i]!, f.edges, f.pit as [number, number][] | undefined)
          : sketchCategorical(reservoirs[i]!.map((v) => (v === null ? null : String(v))), f.vocabulary),
      );
      return features.some((s) => s !== null) ? { schemaDigest: layout.schemaDigest, window, features } : null;
    },
  };
}
