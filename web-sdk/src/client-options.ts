/**
 * @module client-options
 * What an app passes to `createClient` (client.ts). Its own module so the parts the client is
 * composed of (device.ts, …) can read the options without importing the client.
 */
import type { Backend, Envelope, SizeCaps } from '@modelfleet/protocol';
import type { ClientIssue } from './report.ts';
import type { Runner } from './runner.ts';
import type { ModelStore } from './store.ts';

export interface ClientOptions {
  endpoint: string;
  appKey: string;
  /** The pinned root.json (object or JSON text) from `modelfleet keys init`. */
  trustRoot: Envelope | string;
  deviceId?: string;
  fetch?: typeof fetch;
  /** An open store, or the IndexedDB database name (default "modelfleet"). */
  storage?: ModelStore | string;
  backends?: Backend[];
  /** Ticket polling period in ms (default 15 min, jittered ±20 %); 0 turns polling off. */
  pollInterval?: number;
  /** How long after its ticket expired a cached model is reported `stale` (ms, default 1 h). */
  staleAfter?: number;
  caps?: SizeCaps;
  /**
   * Chunk requests in flight (default 6). Measured under 40 ms RTT and 20 Mbit/s: one at a time
   * took 1.6× as long and two 1.15×; 4 to 16 were within 2 % of each other. 6 is what a browser
   * opens per host over HTTP/1.1, so more would only queue there.
   */
  parallel?: number;
  runner: Runner;
  now?: () => Date;
  /** Sketch inputs for drift monitoring and upload them (default true; needs a baseline in the manifest). */
  telemetry?: boolean;
  /** Reported for rollout targeting (default "web"; the React Native bridge says react-native-ios|android). */
  platform?: string;
  /** The host app's version, for rollouts that target app versions. */
  appVersion?: string;
  /** Device attestation (SPEC 11.4): `turnstile:<token>` from a Turnstile widget, or null; asked at most daily per model. */
  attest?: () => Promise<string | null>;
  /**
   * Told of every failure the SDK absorbs so that it never breaks the app: an upload that could not
   * be sent, a telemetry write to IndexedDB, a sketch that could not start (codes in report.ts).
   * Default: nothing. A hook that throws is ignored.
   */
  onError?: (issue: ClientIssue) => void;
}
