/**
 * @module profile
 * What the device tells the edge about itself with each ticket request, so rollouts can target
 * platforms, SDK and app versions, backend capability, and memory and storage tiers
 * (protocol DeviceProfile). Nothing identifying: coarse tiers and capability flags only.
 */
import { type DeviceProfile, PROFILE_PARAMS } from '@modelfleet/protocol';

export const SDK_VERSION = '0.1.0';

const tier = (x: number, low: number, mid: number): 'low' | 'mid' | 'high' => (x <= low ? 'low' : x <= mid ? 'mid' : 'high');

export async function detectProfile(opts: { platform?: string; appVersion?: string }, estimate?: () => Promise<{ quota?: number }>): Promise<DeviceProfile> {
  const nav = (typeof navigator === 'undefined' ? {} : navigator) as { gpu?: unknown; deviceMemory?: number };
  const profile: DeviceProfile = {
    platform: opts.platform ?? 'web',
    sdkVersion: SDK_VERSION,
    backends: [...(nav.gpu ? (['webgpu'] as const) : []), ...(typeof WebAssembly === 'object' ? (['wasm'] as const) : []), 'cpu'],
  };
  if (opts.appVersion) profile.appVersion = opts.appVersion;
  if (typeof nav.deviceMemory === 'number') profile.memoryTier = tier(nav.deviceMemory, 2, 4);
  const quota = await estimate?.().then((e) => e.quota).catch(() => undefined);
  if (typeof quota === 'number') profile.storageTier = quota < 2 ** 30 ? 'low' : quota < 10 * 2 ** 30 ? 'mid' : 'high';
  return profile;
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
