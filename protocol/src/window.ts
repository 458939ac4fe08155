/**
 * @module window
 * Telemetry windows (SPEC 10.6): time cut into equal windows of `seconds`, numbered from the
 * Unix epoch. A day (86 400 s) by default; a deployment may choose a shorter length that divides
 * a day (WINDOW_SECONDS), so windows never straddle a UTC midnight and a day holds a whole number
 * of them. Tickets carry the length (`windowSeconds`), so devices number windows as the server does.
 */

export const DAY_SECONDS = 86_400;
/** Shorter windows would hold too few devices to release anything, and number past u32 sooner. */
export const MIN_WINDOW_SECONDS = 10;

/**
 * The window a timestamp falls in.
 * @example windowOf(new Date('2026-12-03T15:00:00Z')) // 20790, the UTC day
 * @example windowOf(new Date('2026-12-03T15:00:29Z'), 30) // the 30-s window
 */
export const windowOf = (date: Date, seconds = DAY_SECONDS): number => Math.floor(date.getTime() / (seconds * 1000));

/**
 * When a window begins (it ends where window + 1 begins).
 * @example windowStart(20790).toISOString() // '2026-12-03T00:00:00.000Z'
 */
export const windowStart = (window: number, seconds = DAY_SECONDS): Date => new Date(window * seconds * 1000);

/** A usable window length: whole seconds, at least MIN_WINDOW_SECONDS, dividing a day. */
export const isWindowLength = (seconds: number): boolean =>
  Number.isInteger(seconds) && seconds >= MIN_WINDOW_SECONDS && seconds <= DAY_SECONDS && DAY_SECONDS % seconds === 0;

/** How many windows `days` days hold (the catch-up bound, the ledger's year). */
export const windowsIn = (days: number, seconds = DAY_SECONDS): number => (days * DAY_SECONDS) / seconds;

/**
 * How long after a window ends it is closed: 15 minutes for day windows (late uploads and clock
 * skew), at most half a window for short ones, so a window closes before the next one ends.
 */
export const closeGraceSeconds = (seconds = DAY_SECONDS): number => Math.min(15 * 60, seconds / 2);
