/**
 * @module drift-views
 * Operator views of drift windows: a window's contributions so far
 * (`GET …/sketches/{window}`), its release (`POST …/sketches/{window}/close`) and the model's
 * closed windows (`GET /v1/models/{model}/drift`). Raw aggregates never appear: only counts,
 * digests and what a release made public.
 */
import { z } from 'zod';

export const WindowStatus = z.object({
  window: z.number().int(),
  devices: z.number().int(),
  digest: z.string().nullable(),
  closed: z.boolean(),
  unreleased: z.number().int().optional().meta({ description: 'step health: devices not yet in a released increment' }),
  increments: z.number().int().optional().meta({ description: 'step health: increments released so far' }),
  pending: z.number().int().optional().meta({ description: 'step health: an increment released but not yet recorded' }),
  pendingDigest: z.string().optional().meta({ description: "SHA-256 of that increment's noised sums (JSON)" }),
});
export type WindowStatus = z.infer<typeof WindowStatus>;

export const WindowRelease = z.object({
  devices: z.number().int(),
  released: z.boolean(),
  alarm: z.boolean(),
  noiseSigma: z.number().nullable(),
  noise: z.unknown(),
  verdict: z.unknown(),
  retrain: z.unknown(),
});
export type WindowRelease = z.infer<typeof WindowRelease>;

export const DriftView = z.object({
  minDevices: z.number().int().meta({ description: 'devices a window needs before it is released' }),
  familyAlpha: z.number().meta({
    description: 'false-alarm rate per window over all features (Bonferroni-split per feature)',
  }),
  epsilonPerDay: z.number().meta({
    description:
      "privacy budget ε per device per model per window (δ = 1e-6) that each window's release spends " +
      'at most: per day with day windows (DRIFT_EPSILON_PER_DAY)',
  }),
  windowSeconds: z
    .number()
    .int()
    .meta({
      description:
        'window length in seconds (WINDOW_SECONDS; 86400 = UTC days); window w starts at w · windowSeconds s ' +
        'after the Unix epoch',
    }),
  effectFloor: z.object({ sigma: z.number(), share: z.number() }).meta({
    description:
      'smallest effect that alarms: location/shape shift in baseline σ (numeric), change of a share ' +
      '(categorical, missing)',
  }),
  windows: z.array(z.record(z.string(), z.unknown())),
});
export type DriftView = z.infer<typeof DriftView>;
