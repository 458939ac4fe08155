/**
 * @module webhook-events
 * The webhook event types and, for each, the schema of its CloudEvent `data`. EVENT_TYPES is the
 * one list: the control plane's emitters are typed by it (an event's data must match its type's
 * schema), webhook registrations name its members, and receivers parse `data` by `type` here.
 * Data objects are read tolerantly: a field added later is dropped by an older receiver, not refused.
 */
import { z } from 'zod';
import { RolloutDecision } from './rollout-view.ts';

export const EVENT_TYPES = [
  'dev.modelfleet.drift.alarm',
  'dev.modelfleet.drift.retrain_requested',
  'dev.modelfleet.rollout.transition',
  'dev.modelfleet.webhook.ping',
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

const Interval = z.object({ estimate: z.number(), low: z.number(), high: z.number() });

/** What the window's released outputs say: prediction drift and the accuracy estimates. */
export const OutputVerdict = z.object({
  /** The predicted-class mix or the confidence distribution moved (their feature alarms). */
  predictionDrift: z.boolean(),
  /** Label-free accuracy: calibrated (reliability table) or, marked uncalibrated, mean confidence. */
  estimatedAccuracy: z.number().nullable(),
  calibrated: z.boolean(),
  /** The reference: the validation accuracy (reliability table) or the version's metrics.accuracy. */
  baselineAccuracy: z.number().nullable(),
  /** Accuracy from label feedback, when enough devices sent labels. */
  feedbackAccuracy: z.number().nullable(),
  /** Reference minus the accuracy used (labels when present, else the calibrated estimate). */
  accuracyDrop: z.number().nullable(),
  accuracyAlarm: z.boolean(),
});
export type OutputVerdict = z.infer<typeof OutputVerdict>;

/** A feature's effect sizes (control plane drift/detect.ts FeatureEffects). */
export const FeatureEffects = z.object({
  /** √π·‖mean Legendre components‖: shape change on the smooth test's scale. */
  sigmaShift: z.number().nullable(),
  /** Signed location shift in baseline normal-score units (numeric), with its 95 % interval. */
  location: Interval.extend({ censored: z.boolean() }).nullable().optional(),
  /** Spread ratio fleet/baseline (numeric), when the fit can tell. */
  scale: Interval.nullable().optional(),
  psi: z.number(),
  js: z.number(),
  psiInterval: z.tuple([z.number(), z.number()]).optional(),
  jsInterval: z.tuple([z.number(), z.number()]).optional(),
  linf: z.number(),
});

/** Which window of which version an event is about. */
const WindowRef = z.object({
  model: z.string(),
  version: z.number().int(),
  window: z.number().int(),
  devices: z.number().int(),
});

/** `dev.modelfleet.drift.alarm`: a released window whose tests alarmed; the alarmed features. */
export const DriftAlarmData = WindowRef.extend({
  noiseSigma: z.number(),
  outputs: OutputVerdict.nullable(),
  features: z.array(
    z.object({
      name: z.string(),
      test: z.enum(['smooth', 'rao-scott', 'none']),
      p: z.number().nullable(),
      statistic: z.number().nullable(),
      effects: FeatureEffects,
    }),
  ),
});

export const RETRAIN_REASONS = ['cusum', 'share', 'prediction_drift', 'accuracy'] as const;

/** `dev.modelfleet.drift.retrain_requested`: a request to the training pipeline, with reasons and evidence. */
export const RetrainRequestedData = WindowRef.extend({
  reasons: z.array(z.enum(RETRAIN_REASONS)),
  windowScore: z.number(),
  outputs: OutputVerdict.nullable(),
  alarmedFeatures: z.array(z.string()),
});

const Position = z.object({ state: z.string(), step: z.number().int(), percent: z.number() });

/** `dev.modelfleet.rollout.transition`: every rollout decision, by an operator or by the analysis. */
export const RolloutTransitionData = z.object({
  rollout: z.string(),
  action: z.string(),
  actor: z.string(),
  reason: z.string().nullable(),
  from: Position,
  to: Position,
  champion: z.number().int(),
  challenger: z.number().int(),
  /** The analysis's decision when it acted; null for an operator's action. */
  evidence: RolloutDecision.nullable(),
});

/** `dev.modelfleet.webhook.ping`: a test delivery to one webhook. */
export const WebhookPingData = z.object({ webhook: z.string() });

/** The `data` schema of each event type. */
export const EVENT_DATA = {
  'dev.modelfleet.drift.alarm': DriftAlarmData,
  'dev.modelfleet.drift.retrain_requested': RetrainRequestedData,
  'dev.modelfleet.rollout.transition': RolloutTransitionData,
  'dev.modelfleet.webhook.ping': WebhookPingData,
} as const satisfies Record<EventType, z.ZodType>;

/** The data of an event of type T, as an emitter writes it. */
export type EventData<T extends EventType = EventType> = z.input<(typeof EVENT_DATA)[T]>;
