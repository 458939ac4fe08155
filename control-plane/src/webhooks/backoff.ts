/**
 * @module webhooks/backoff
 * Retry delays for webhook deliveries.
 */
const MAX_DELAY_SECONDS = 3600;

/** Exponential backoff with jitter: base·2^(n−1) scaled into [½, 1], at most an hour. */
export function backoffSeconds(attempts: number, baseSeconds: number, random = Math.random()): number {
  const cap = Math.min(MAX_DELAY_SECONDS, baseSeconds * 2 ** Math.max(0, attempts - 1));
  return Math.round(cap * (0.5 + random / 2));
}
