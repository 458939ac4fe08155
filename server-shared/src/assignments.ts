/**
 * @module assignments
 * The edge keeps each model's resolved assignment (alias, rollout) per isolate for
 * EDGE_CACHE_TTL_MS. When the control plane moves an alias in the same isolate, it forgets them
 * at once rather than waiting out the TTL; the edge registers what to forget, so the control
 * plane need not know where those caches live.
 */

const forgetters = new Set<() => void>();

/** Registers a per-isolate cache of assignments to clear on `forgetAssignments`. */
export function onForgetAssignments(forget: () => void): void {
  forgetters.add(forget);
}

/** Clears every registered assignment cache of this isolate (tests; the control plane after it moves an alias). */
export function forgetAssignments(): void {
  for (const forget of forgetters) forget();
}
