/**
 * @module sync-marks
 * User Timing marks of the sync flow. One definition, shared by sync.ts and ticket.ts, so a load
 * shows as one sequence of `modelfleet:sync:<step>` marks in the browser's performance panel.
 */

/** A User Timing mark (`modelfleet:sync:<step>`); nothing where the platform has no performance.mark. */
export const mark = (step: string) =>
  (globalThis.performance as Performance | undefined)?.mark?.(`modelfleet:sync:${step}`);
