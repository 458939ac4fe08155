/**
 * @module fleet
 * `GET /v1/models/{model}/fleet`: devices per version per telemetry window — how far an update
 * has spread and how many devices still run the version before it. The counts are those of the
 * devices' health records (one per device, version and window), which are public: closed windows
 * from the recorded windows, the open ones live from their aggregates.
 */
import { z } from 'zod';
import { ModelName } from './manifest.ts';

export const FleetQuery = z.object({
  windows: z.coerce
    .number()
    .int()
    .min(1)
    .max(366)
    .default(30)
    .meta({ description: 'how many windows, ending with the current one' }),
});

export const FleetWindow = z.object({
  /** Window index: the window starts at `window × windowSeconds` seconds after the epoch (UTC). */
  window: z.number().int(),
  /** True while some of its counts come from the open aggregates (they may still rise). */
  live: z.boolean(),
  /** One entry per version of the response's `versions`, in that order (0 where none reported). */
  versions: z.array(z.object({ version: z.number().int(), devices: z.number().int() })),
  total: z.number().int(),
});
export type FleetWindow = z.infer<typeof FleetWindow>;

export const FleetView = z.object({
  model: ModelName,
  windowSeconds: z
    .number()
    .int()
    .positive()
    .meta({ description: 'length of a window in seconds (Worker var WINDOW_SECONDS, default 86400)' }),
  /** The window now open; uploads are taken for it and the one before (SPEC 10.6). */
  current: z.number().int(),
  /** Versions with at least one device in any of the windows, ascending. */
  versions: z.array(z.number().int()),
  /** Oldest first, ending with `current`. */
  windows: z.array(FleetWindow),
});
export type FleetView = z.infer<typeof FleetView>;
