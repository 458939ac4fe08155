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

export const PROFILE_PARAMS = { platform: 'platform', sdkVersion: 'sdk', appVersion: 'app', backends: 'backends', memoryTier: 'mem', storageTier: 'storage' } as const;
