/**
 * @module env
 * The Worker's bindings and variables, as declared in wrangler.toml. Secrets
 * (RELEASE_KEY, TICKET_KEY, ADMIN_TOKEN) come from `.dev.vars` locally and from
 * `wrangler secret put` in production; they never reach a client. Variables' defaults and parsing
 * are in @modelfleet/server-shared (`vars`); Durable Objects are typed by the interfaces their
 * callers use, not by their classes (which import modules that take this Env).
 */
import type { Aggregator } from '@modelfleet/server-shared';
import type { Coordinator } from './rollouts/coordinator-api.ts';
import type { DeliveryMessage } from './webhooks/delivery-message.ts';

export interface Env {
  DB: D1Database;
  ARTIFACTS: R2Bucket;
  CACHE: KVNamespace;
  DEVICE_LIMITER?: RateLimit;
  AGGREGATES?: DurableObjectNamespace<Aggregator>;
  /** Producer for webhook deliveries (the same Worker consumes it). */
  WEBHOOKS?: Queue<DeliveryMessage>;
  /** First retry delay of a failed webhook delivery, doubling per attempt (seconds). */
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  /**
   * Comma-separated hostnames a webhook may target although they are loopback, private or
   * link-local (e.g. `127.0.0.1,localhost` for local development); plain http is allowed to them
   * only. Unset: none (webhooks/target.ts).
   */
  WEBHOOK_ALLOW_HOSTS?: string;
  /** One Durable Object per rollout: serialises its transitions, its alarm advances the steps. */
  ROLLOUTS?: DurableObjectNamespace<Coordinator>;
  /** Seconds between a running rollout's analysis ticks. */
  ROLLOUT_TICK_SECONDS?: string;
  MAX_MODEL_BYTES?: string;
  /** Seconds a commit's claim on its upload holds before another commit may take it over. */
  COMMIT_LEASE_SECONDS?: string;
  EDGE_CACHE_TTL_MS?: string;
  /** How long an edge isolate trusts a stored chunk it has hashed (ms; 0 = hash every read). */
  EDGE_VERIFY_TTL_MS?: string;
  TICKET_TTL_SECONDS?: string;
  /**
   * Telemetry window length in seconds (a UTC day unless set; at least 10, dividing 86400):
   * devices learn it from their tickets, the edge numbers uploads by it, the window-close cron
   * closes windows that ended, and the privacy ledger counts its year in it. Shorter windows want
   * a Cron Trigger to match (docs/drift-and-privacy.md).
   */
  WINDOW_SECONDS?: string;
  /**
   * Privacy budget per model for drift releases, spent by each window's release: per
   * day with day windows, per window with shorter ones (a deployment that shortens windows
   * multiplies the daily spend by the windows a day holds, and must choose ε knowing it).
   */
  DRIFT_EPSILON_PER_DAY?: string;
  /**
   * Daily privacy budget per model for rollout-step releases, on top of the daily window's
   * (unset: DRIFT_EPSILON_PER_DAY, so a device in a step's range is released at most twice that
   * per day); once spent, steps wait for the day's window. Per window, like the drift budget,
   * when WINDOW_SECONDS is shorter than a day.
   */
  ROLLOUT_STEP_EPSILON_PER_DAY?: string;
  /** Devices a window needs before anything is released. */
  DRIFT_MIN_DEVICES?: string;
  /** Distinct client networks an alarm (DRIFT_) or a rollout decision (ROLLOUT_) must rest on (drift/networks.ts). */
  DRIFT_MIN_NETWORKS?: string;
  ROLLOUT_MIN_NETWORKS?: string;
  /** JSON `{ alg, keyid, privateKey }` (PKCS#8, base64) of the release role's online key. */
  RELEASE_KEY?: string;
  /** JSON `{ alg, keyid, privateKey }` of the ticket role's online key. */
  TICKET_KEY?: string;
  /** Bootstrap admin bearer token; further tokens are minted through /v1/tokens. */
  ADMIN_TOKEN?: string;
  /** Fault tests only: comma-separated crash points to arm (fault/crash-points.ts). Never set in a deployment. */
  FAULT_POINTS?: string;
}
