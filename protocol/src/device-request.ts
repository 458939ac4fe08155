/**
 * @module device-request
 * What a device sends to /v1/edge besides the path: its app key, and the profile it describes
 * itself by for rollout targeting. Apart from api.ts and rollout.ts (operator requests, classic
 * zod) so that a device bundle takes none of the operator schemas with these constants.
 */

/** Header that carries a device app key on /v1/edge routes. */
export const APP_KEY_HEADER = 'x-modelfleet-app-key';

/**
 * What a device says about itself when it asks for a ticket (query parameters), for targeting.
 * Tiers: memory low ≤ 2 GB < mid ≤ 4 GB < high; storage quota low < 1 GB ≤ mid < 10 GB ≤ high.
 */
export interface DeviceProfile {
  platform?: string;
  sdkVersion?: string;
  appVersion?: string;
  backends?: ('webgpu' | 'wasm' | 'cpu')[];
  memoryTier?: 'low' | 'mid' | 'high';
  storageTier?: 'low' | 'mid' | 'high';
}

export const PROFILE_PARAMS = {
  platform: 'platform',
  sdkVersion: 'sdk',
  appVersion: 'app',
  backends: 'backends',
  memoryTier: 'mem',
  storageTier: 'storage',
} as const;

/**
 * A device key as the edge routes take it (`?device=`): opaque and stable per install, 1–128 of
 * A-Z a-z 0-9 . _ : - (the edge refuses anything else with `bad_request`; the OpenAPI document
 * is generated from this same pattern).
 */
export const DEVICE_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The device telemetry uploads, `POST /v1/edge/{channel}/{model}/{version}` (SPEC §10): daily
 * drift sketches and health records, and a rollout step's health records and drift sketches.
 */
export const SKETCH_CHANNELS = ['sketches', 'health', 'step-health', 'step-sketches'] as const;
export type SketchChannel = (typeof SKETCH_CHANNELS)[number];

/** The one body type of a telemetry upload: the binary layout of SPEC 10.3. */
export const SKETCH_CONTENT_TYPE = 'application/octet-stream';

/**
 * Largest telemetry body the edge reads (SPEC 10.6); bigger ones are refused by Content-Length
 * before the body is read. 512 features of 32 slots would be 32 KiB: anything bigger is no sketch.
 */
export const MAX_SKETCH_BYTES = 64 * 1024;

/** A rollout's id, as `?rollout=` names it on the step channels. */
export const ROLLOUT_ID_PATTERN = /^ro_[0-9a-f]{16}$/;
