/**
 * @module env
 * The bindings the edge runtime needs; the control plane's Env is a superset. The variables'
 * defaults and parsing are in @modelfleet/server-shared (`vars`).
 */
import type { AggregatesEnv } from '@modelfleet/server-shared';

export interface EdgeEnv extends AggregatesEnv {
  DB: D1Database;
  ARTIFACTS: R2Bucket;
  DEVICE_LIMITER?: RateLimit;
  EDGE_CACHE_TTL_MS?: string;
  /** How long an isolate trusts a stored chunk it has hashed before hashing it again (ms; 0 = every read). */
  EDGE_VERIFY_TTL_MS?: string;
  TICKET_TTL_SECONDS?: string;
  TICKET_KEY?: string;
  /** `off` accepts telemetry without a ticket's proof (a fleet whose SDKs predate proofs). */
  UPLOAD_PROOF?: string;
  /** Distinct unattested devices per client network per aggregate; 0 = no cap. */
  NETWORK_DEVICE_CAP?: string;
  /** Cloudflare Turnstile secret: devices that pass it are attested (exempt from network caps). */
  TURNSTILE_SECRET?: string;
  TURNSTILE_VERIFY_URL?: string;
  /** Telemetry window length in seconds (SPEC 10.6): at least 10, dividing 86400. */
  WINDOW_SECONDS?: string;
}
