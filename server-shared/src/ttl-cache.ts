/**
 * @module ttl-cache
 * A per-isolate memo with a time-to-live. The edge reads D1 at most once per key per TTL, so
 * the hot path (ticket resolve) costs a signature-free memory lookup; changes become visible
 * within the TTL (EDGE_CACHE_TTL_MS), which is the consistency the SDK's polling already has.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** Returns the cached value or loads it; a failed load is not cached. */
  get(key: string, ttlMs: number, now: number, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = load();
    if (ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.clear(); // bounded; a cold start is cheap
      this.entries.set(key, { value, expires: now + ttlMs });
      value.catch(() => this.entries.delete(key));
    }
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
