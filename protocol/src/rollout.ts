/**
 * @module rollout
 * Staged rollouts (docs/architecture.md §8): the plan an operator submits, and the deterministic bucketing every
 * runtime must agree on (vectors in protocol/vectors/bucketing.json).
 *
 *   bucket = uint32_be(SHA-256(utf8(salt + ":" + deviceKey))[0..4]) mod 10000
 *
 * A device is in the challenger cohort when bucket < percent·100, and in the control cohort (kept
 * on the champion, compared against the challenger) when bucket ≥ 10000 − percent·100, for
 * percent ≤ 50. Growing the percentage with a fixed salt never moves a device back.
 */
import { z } from 'zod';
import type { DeviceProfile } from './device-request.ts';
import { utf8 } from './encoding.ts';

export const BUCKETS = 10_000;

export async function bucketOf(salt: string, deviceKey: string): Promise<number> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(`${salt}:${deviceKey}`) as BufferSource));
  return new DataView(digest.buffer).getUint32(0, false) % BUCKETS;
}

/** Percent (0–100, two decimals) as a count of buckets. */
export const bucketsFor = (percent: number) => Math.round(percent * 100);

export type Cohort = 'challenger' | 'control' | 'rest';

export function rolloutCohort(bucket: number, percent: number): Cohort {
  const width = bucketsFor(percent);
  if (bucket < width) return 'challenger';
  if (percent <= 50 && bucket >= BUCKETS - width) return 'control';
  return 'rest';
}

export const RolloutStep = z.strictObject({
  percent: z
    .number()
    .min(0.01)
    .max(100)
    .refine(
      (p) => Number.isInteger(Math.round(p * 100)) && Math.abs(p * 100 - Math.round(p * 100)) < 1e-9,
      'percent has at most two decimals',
    ),
  /** How long the step bakes before analysis may promote it to the next one. */
  bakeSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400),
});
export type RolloutStep = z.infer<typeof RolloutStep>;

export const METRICS = [
  'load_failure_rate',
  'verify_failure_rate',
  'inference_error_rate',
  'non_finite_rate',
  'latency_p95_ms',
  'prediction_drift',
  'estimated_accuracy',
  'label_accuracy',
] as const;
export const Metric = z.enum(METRICS);

export const MetricCheck = z.strictObject({
  metric: Metric,
  /** Largest tolerated harm: challenger − control for rates and latency, control − challenger for accuracies. */
  tolerance: z.number().min(0),
  /** Devices per cohort before the metric can pass; below it the metric has no data (never a pass). */
  minSample: z.number().int().min(1).default(1000),
  /** A failing critical metric rolls back; a failing non-critical one holds. */
  critical: z.boolean().default(true),
});
export type MetricCheck = z.infer<typeof MetricCheck>;

export const Targeting = z.strictObject({
  platforms: z.array(z.string().min(1).max(40)).max(20).optional(),
  sdkVersions: z.array(z.string().min(1).max(40)).max(20).optional(),
  appVersions: z.array(z.string().min(1).max(40)).max(50).optional(),
  backends: z
    .array(z.enum(['webgpu', 'wasm', 'cpu']))
    .min(1)
    .optional(),
  memoryTiers: z
    .array(z.enum(['low', 'mid', 'high']))
    .min(1)
    .optional(),
  storageTiers: z
    .array(z.enum(['low', 'mid', 'high']))
    .min(1)
    .optional(),
});
export type Targeting = z.infer<typeof Targeting>;

/** Exact match, or a prefix with a trailing `*` ("2.3.*"). */
const matches = (value: string, patterns: string[]) =>
  patterns.some((p) => (p.endsWith('*') ? value.startsWith(p.slice(0, -1)) : value === p));

/**
 * Whether a device may be put on the challenger. A targeted attribute the device did not send
 * makes it ineligible: a device never gets a model whose requirements it may fail.
 */
export function eligible(targeting: Targeting | undefined, d: DeviceProfile): boolean {
  if (!targeting) return true;
  const t = targeting;
  if (t.platforms && !(d.platform && matches(d.platform, t.platforms))) return false;
  if (t.sdkVersions && !(d.sdkVersion && matches(d.sdkVersion, t.sdkVersions))) return false;
  if (t.appVersions && !(d.appVersion && matches(d.appVersion, t.appVersions))) return false;
  if (t.backends && !(d.backends && d.backends.some((b) => t.backends!.includes(b)))) return false;
  if (t.memoryTiers && !(d.memoryTier && t.memoryTiers.includes(d.memoryTier))) return false;
  if (t.storageTiers && !(d.storageTier && t.storageTiers.includes(d.storageTier))) return false;
  return true;
}

export const DEFAULT_STEPS: RolloutStep[] = [1, 5, 25, 50, 100].map((percent) => ({ percent, bakeSeconds: 3600 }));
export const DEFAULT_ANALYSIS: MetricCheck[] = [
  { metric: 'load_failure_rate', tolerance: 0.01, minSample: 1000, critical: true },
  { metric: 'verify_failure_rate', tolerance: 0.001, minSample: 1000, critical: true },
  { metric: 'inference_error_rate', tolerance: 0.005, minSample: 1000, critical: true },
  { metric: 'non_finite_rate', tolerance: 0.001, minSample: 1000, critical: true },
  { metric: 'latency_p95_ms', tolerance: 20, minSample: 1000, critical: false },
];

/**
 * The champion/challenger gate: a publisher (CI) may start a rollout on its own only when the
 * challenger beats the champion on `metric` by `margin`, both measured on the same evaluation set
 * (equal evalSetDigest in their manifests). Otherwise it takes an operator.
 */
export const RolloutGate = z.strictObject({
  metric: z.string().min(1).max(64),
  margin: z.number().min(0).default(0),
  higherIsBetter: z.boolean().default(true),
});
export type RolloutGate = z.infer<typeof RolloutGate>;

export const RolloutPlan = z.strictObject({
  steps: z
    .array(RolloutStep)
    .min(1)
    .max(20)
    .default(DEFAULT_STEPS)
    .refine((s) => s.every((x, i) => i === 0 || x.percent > s[i - 1]!.percent), 'step percentages must increase')
    .refine((s) => s[s.length - 1]!.percent === 100, 'the last step is 100 %'),
  analysis: z
    .array(MetricCheck)
    .max(METRICS.length)
    .default(DEFAULT_ANALYSIS)
    .refine((a) => new Set(a.map((m) => m.metric)).size === a.length, 'each metric once'),
  targeting: Targeting.optional(),
  /** Bucketing salt; omitted = fresh per rollout (spreads canary risk over the fleet). */
  salt: z.string().min(1).max(128).optional(),
  gate: RolloutGate.optional(),
});
export type RolloutPlan = z.infer<typeof RolloutPlan>;
