/**
 * @module env
 * The bindings the edge runtime needs; the control plane's Env is a superset.
 */
import { DAY_SECONDS, MIN_WINDOW_SECONDS, isWindowLength } from '@modelfleet/protocol';
import { ApiError } from './http-error.ts';

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
  /** Telemetry window length in seconds (SPEC 10.6; default 86400, a UTC day): at least 10, dividing 86400. */
  WINDOW_SECONDS?: string;
}

export function numberVar(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * The configured window length. A value that is not one (`45.5`, `7`, `100000`) refuses every
 * path that numbers windows — ingest, close, the drift views — with `window_length_invalid`
 * rather than guessing: counting a fleet's telemetry in a unit the operator did not mean would
 * release it on the wrong schedule and spend the privacy budget at the wrong rate.
 */
export function windowSeconds(env: Pick<EdgeEnv, 'WINDOW_SECONDS'>): number {
  if (env.WINDOW_SECONDS === undefined || env.WINDOW_SECONDS === '') return DAY_SECONDS;
  const n = Number(env.WINDOW_SECONDS);
  if (!isWindowLength(n)) {
    throw new ApiError('window_length_invalid', `WINDOW_SECONDS is ${JSON.stringify(env.WINDOW_SECONDS)}; set it to a whole number of seconds, at least ${MIN_WINDOW_SECONDS}, that divides 86400 (e.g. 30, 60, 3600 or 86400)`);
  }
  return n;
}

/** R2 keys of content-addressed objects. */
export const r2Key = {
  chunk: (digest: string) => `chunks/${digest}`,
  manifest: (digest: string) => `manifests/${digest}`,
};
