/**
 * @module drift/accuracy
 * What a window says about accuracy. Without labels: confidence-based performance estimation —
 * the fleet's share of each top-class-confidence bin times the validation accuracy in that bin
 * (the baseline's reliability table). Unlike "mean confidence", it stays right for a model
 * whose confidences are over- or under-confident, as long as P(correct | confidence) holds
 * (covariate shift). Without a reliability table the mean confidence is shown but marked
 * uncalibrated, and never raises an accuracy alarm. Where the app sends labels (`feedback`),
 * the label accuracy is preferred and both are shown.
 */
import {
  type LayoutFeature,
  OUTPUT_CLASS,
  OUTPUT_CONFIDENCE,
  SKETCH_SCALE,
  type SketchAggregate,
  type SketchLayout,
} from '@modelfleet/protocol';
import type { DetectOptions, FeatureVerdict } from './verdict-types.ts';

export interface AccuracyContext {
  /** Label feedback released with the window: devices that sent labels and the share confirmed correct. */
  feedback?: { devices: number; accuracy: number } | null;
  /** The version's own `metrics.accuracy` (metrics.json), shown as the reference when no reliability table exists. */
  metricsAccuracy?: number | null;
}

export interface OutputVerdict {
  /** The predicted-class mix or the confidence distribution moved (their feature alarms). */
  predictionDrift: boolean;
  /** Label-free accuracy: calibrated (reliability table) or, marked uncalibrated, mean confidence. */
  estimatedAccuracy: number | null;
  /** True when the estimate comes from a reliability table of labelled validation predictions. */
  calibrated: boolean;
  /** The reference: the validation accuracy (reliability table) or the version's metrics.accuracy. */
  baselineAccuracy: number | null;
  /** Accuracy from label feedback, when enough devices sent labels. */
  feedbackAccuracy: number | null;
  /** Reference minus the accuracy used (labels when present, else the calibrated estimate). */
  accuracyDrop: number | null;
  accuracyAlarm: boolean;
}

/** Interior shares of the released confidence bins, tails folded in. */
function confidenceShares(edges: number[], fractions: number[]): number[] {
  const B = edges.length - 1;
  const interior = fractions.slice(1, B + 1).map((f) => Math.max(f, 0));
  interior[0]! += Math.max(fractions[0]!, 0);
  interior[B - 1]! += Math.max(fractions[B + 1]!, 0);
  const total = interior.reduce((a, b) => a + b, 0) || 1;
  return interior.map((f) => f / total);
}

function estimate(f: LayoutFeature, fractions: number[]): { value: number; calibrated: boolean } {
  const edges = f.edges!;
  const shares = confidenceShares(edges, fractions);
  if (f.accuracy && f.accuracy.length === shares.length)
    return { value: shares.reduce((s, w, b) => s + w * f.accuracy![b]!, 0), calibrated: true };
  const mids = edges.slice(0, -1).map((e, b) => (e + edges[b + 1]!) / 2);
  return { value: shares.reduce((s, w, b) => s + w * mids[b]!, 0), calibrated: false };
}

export function outputVerdict(
  layout: SketchLayout,
  agg: SketchAggregate,
  features: FeatureVerdict[],
  options: DetectOptions,
  context: AccuracyContext,
): OutputVerdict | null {
  const classAt = layout.features.findIndex((f) => f.name === OUTPUT_CLASS);
  const confAt = layout.features.findIndex((f) => f.name === OUTPUT_CONFIDENCE);
  if (classAt < 0 && confAt < 0) return null;
  const predictionDrift = [classAt, confAt].some((i) => i >= 0 && features[i]!.alarm);
  const conf = confAt >= 0 ? layout.features[confAt]! : null;
  const calibratedTable = !!conf?.accuracy;
  const baselineAccuracy = conf?.validationAccuracy ?? context.metricsAccuracy ?? null;
  const feedbackAccuracy =
    context.feedback && context.feedback.devices >= options.minDevices ? context.feedback.accuracy : null;
  const est =
    conf?.edges && agg.features[confAt]!.devices > 0
      ? estimate(
          conf,
          agg.features[confAt]!.sumBins.map((s) => s / SKETCH_SCALE),
        )
      : null;
  const used = feedbackAccuracy ?? (est?.calibrated ? est.value : null);
  const accuracyDrop = baselineAccuracy !== null && used !== null ? baselineAccuracy - used : null;
  // Labels need no drift evidence; a calibrated estimate moves only with the confidence mix, so it must have drifted too.
  const accuracyAlarm =
    accuracyDrop !== null &&
    accuracyDrop >= options.minAccuracyDrop &&
    (feedbackAccuracy !== null || features[confAt]!.alarm);
  return {
    predictionDrift,
    estimatedAccuracy: est?.value ?? null,
    calibrated: calibratedTable,
    baselineAccuracy,
    feedbackAccuracy,
    accuracyDrop,
    accuracyAlarm,
  };
}
