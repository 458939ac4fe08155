/**
 * @module aggregates
 * The sketch aggregate Durable Object as its callers see it: the edge adds uploads, the control
 * plane closes windows, releases step increments and reads counts. The class (edge-runtime
 * aggregator.ts) implements `Aggregator`; bindings are typed by the interface, so no caller's
 * types depend on the class and the class depends on none of theirs.
 */
import type { ReleaseNoise, SketchAggregate, SketchLayout, SketchUpload } from '@modelfleet/protocol';
import { ApiError } from './http-error.ts';

/** A closed window's release: the noised sums (null below the device floor) and the σ they carry. */
export interface Release {
  devices: number;
  released: SketchAggregate | null;
  noise: ReleaseNoise | null;
}

/** A step increment's release: its 1-based index (null: too few devices, nothing released). */
export interface IncrementRelease extends Release {
  index: number | null;
}

export interface AddResult {
  accepted: boolean;
  devices: number;
  /** Refused because its network already holds `cap` unattested devices here (SPEC 11.3). */
  capped?: boolean;
}

/**
 * Where an upload comes from: a keyed digest of its network, the cap per network (0 = none), and
 * whether the device is attested.
 */
export interface UploadSource {
  network: string;
  cap: number;
  attested: boolean;
}

/** How many distinct networks stand behind this aggregate, and what their caps refused. */
export interface NetworkCounts {
  networks: number;
  attested: number;
  capped: number;
  largest: number;
}

/** What the console and the tests read of an aggregate; never its sums. */
export interface AggregateStatus {
  devices: number;
  digest: string | null;
  closed: boolean;
  unreleased?: number;
  increments?: number;
  pending?: number;
  pendingDigest?: string;
}

/** One (model, version, window, cohort) aggregate; the method contracts are on the class. */
export interface Aggregator extends Rpc.DurableObjectBranded {
  add(layout: SketchLayout, device: string, upload: SketchUpload, source?: UploadSource): Promise<AddResult>;
  release(minDevices: number, noise: ReleaseNoise): Promise<Release & { alreadyClosed: boolean }>;
  releaseIncrement(minDevices: number, noise: ReleaseNoise): Promise<IncrementRelease>;
  ackIncrement(index: number): Promise<void>;
  networkCounts(): Promise<NetworkCounts>;
  ack(): Promise<void>;
  status(): Promise<AggregateStatus>;
}

export interface AggregatesEnv {
  AGGREGATES?: DurableObjectNamespace<Aggregator>;
}

/** The Durable Object holding one (model, version, window, cohort) aggregate. */
export function aggregateStub(env: AggregatesEnv, model: string, version: number, window: number, cohort = 'all') {
  if (!env.AGGREGATES) throw new ApiError('internal', 'the AGGREGATES Durable Object is not bound');
  return env.AGGREGATES.get(env.AGGREGATES.idFromName(`${model}/${version}/${window}/${cohort}`));
}
