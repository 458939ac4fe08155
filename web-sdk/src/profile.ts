/**
 * @module profile
 * What the device tells the edge about itself with each ticket request, so rollouts can target
 * platforms, SDK and app versions, backend capability, and memory and storage tiers
 * (protocol DeviceProfile). Nothing identifying: coarse tiers and capability flags only.
 */
import { type DeviceProfile, PROFILE_PARAMS } from '@modelfleet/protocol';

export const SDK_VERSION = '0.1.0';

const tier = (x: number, low: number, mid: number): 'low' | 'mid' | 'high' =>
  x <= low ? 'low' : x <= mid ? 'mid' : 'high';

/** What the device knows of itself at once: platform, versions, backends, memory tier. */
export function detectProfile(opts: { platform?: string; appVersion?: string }): DeviceProfile {
  const nav = (typeof navigator === 'undefined' ? {} : navigator) as { gpu?: unknown; deviceMemory?: number };
  const profile: DeviceProfile = {
    platform: opts.platform ?? 'web',
    sdkVersion: SDK_VERSION,
    backends: [
      ...(nav.gpu ? (['webgpu'] as const) : []),
      ...(typeof WebAssembly === 'object' ? (['wasm'] as const) : []),
      'cpu',
    ],
  };
  if (opts.appVersion) profile.appVersion = opts.appVersion;
  if (typeof nav.deviceMemory === 'number') profile.memoryTier = tier(nav.deviceMemory, 2, 4);
  return profile;
}

/** The storage tier from navigator.storage.estimate()'s quota. */
export function storageTierOf(quota: number | undefined): DeviceProfile['storageTier'] {
  return typeof quota === 'number' ? (quota < 2 ** 30 ? 'low' : quota < 10 * 2 ** 30 ? 'mid' : 'high') : undefined;
}

/** The profile as ticket query parameters. */
export function profileQuery(p: DeviceProfile): string {
  const q = new URLSearchParams();
  for (const [key, param] of Object.entries(PROFILE_PARAMS) as [keyof DeviceProfile, string][]) {
    const v = p[key];
    if (v !== undefined) q.set(param, Array.isArray(v) ? v.join(',') : v);
  }
  const s = q.toString();
  return s ? `&${s}` : '';
}
