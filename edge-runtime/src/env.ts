/**
 * @module env
 * The bindings the edge runtime needs; the control plane's Env is a superset.
 */
export interface EdgeEnv {
  DB: D1Database;
  ARTIFACTS: R2Bucket;
  DEVICE_LIMITER?: RateLimit;
  EDGE_CACHE_TTL_MS?: string;
  /** How long an isolate trusts a stored chunk it has hashed before hashing it again (default 1 h; 0 = every read). */
  EDGE_VERIFY_TTL_MS?: string;
  TICKET_TTL_SECONDS?: string;
  TICKET_KEY?: string;
  /** `off` accepts telemetry without a ticket's proof (a fleet whose SDKs predate proofs); default required. */
  UPLOAD_PROOF?: string;
  /** Distinct unattested devices per client network per aggregate; 0 = no cap. */
  NETWORK_DEVICE_CAP?: string;
  /** Cloudflare Turnstile secret: devices that pass it are attested (exempt from network caps). */
  TURNSTILE_SECRET?: string;
  TURNSTILE_VERIFY_URL?: string;
  AGGREGATES?: DurableObjectNamespace<import('./aggregator.ts').SketchAggregator>;
}

export function numberVar(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** R2 keys of content-addressed objects. */
export const r2Key = {
  chunk: (digest: string) => `chunks/${digest}`,
  manifest: (digest: string) => `manifests/${digest}`,
};
