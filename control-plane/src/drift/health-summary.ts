/**
 * @module drift/health-summary
 * Reads a released (noised) health aggregate: per counter, the fleet's mean share of each
 * outcome (one device, one vote), and latency quantiles from the log-binned histogram.
 */
import {
  BACKENDS,
  FEEDBACK_OUTCOMES,
  LATENCY_EDGES_MS,
  LOAD_OUTCOMES,
  PREDICT_OUTCOMES,
  SKETCH_SCALE,
  type SketchAggregate,
} from '@modelfleet/protocol';

export interface HealthSummary {
  devices: number;
  load: { devices: number; shares: Record<string, number> };
  predict: { devices: number; shares: Record<string, number> };
  backend: { devices: number; shares: Record<string, number> };
  /** Label feedback from the app (`model.feedback`): share of predictions the label confirmed. */
  feedback: { devices: number; shares: Record<string, number> };
  /** p50 / p95 in ms from the histogram (linear within a bin); null when no device reported latency. */
  latency: { devices: number; p50Ms: number | null; p95Ms: number | null; over1sShare: number };
}

function shares(sumBins: number[], names: readonly string[]): Record<string, number> {
  const clipped = sumBins.map((s) => Math.max(s, 0) / SKETCH_SCALE);
  const total = clipped.reduce((a, b) => a + b, 0) || 1;
  return Object.fromEntries(names.map((n, i) => [n, clipped[i]! / total]));
}

/** The q-quantile of a histogram over [under, interior bins…, over, missing], linear within bins. */
export function histogramQuantile(sumBins: number[], edges: number[], q: number): number | null {
  const B = edges.length - 1;
  const counts = sumBins.slice(0, B + 2).map((s) => Math.max(s, 0)); // missing is not a latency
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  let target = q * total;
  if ((target -= counts[0]!) <= 0) return edges[0]!;
  for (let b = 1; b <= B; b++) {
    const c = counts[b]!;
    if (target <= c) return edges[b - 1]! + (c > 0 ? target / c : 0) * (edges[b]! - edges[b - 1]!);
    target -= c;
  }
  return edges[B]!; // in the overflow bin: at least the last edge
}

export function summarizeHealth(agg: SketchAggregate): HealthSummary {
  const [load, predict, latency, backend, feedback] = agg.features;
  const B = LATENCY_EDGES_MS.length - 1;
  const lat = latency!.sumBins;
  const latTotal = lat.slice(0, B + 2).reduce((a, b) => a + Math.max(b, 0), 0);
  return {
    devices: agg.devices,
    load: { devices: load!.devices, shares: shares(load!.sumBins, LOAD_OUTCOMES) },
    predict: { devices: predict!.devices, shares: shares(predict!.sumBins, PREDICT_OUTCOMES) },
    backend: { devices: backend!.devices, shares: shares(backend!.sumBins, BACKENDS) },
    feedback: { devices: feedback!.devices, shares: shares(feedback!.sumBins, FEEDBACK_OUTCOMES) },
    latency: {
      devices: latency!.devices,
      p50Ms: histogramQuantile(lat, LATENCY_EDGES_MS, 0.5),
      p95Ms: histogramQuantile(lat, LATENCY_EDGES_MS, 0.95),
      over1sShare: latTotal > 0 ? Math.max(lat[B + 1]!, 0) / latTotal : 0,
    },
  };
}
