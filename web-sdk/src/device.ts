/**
 * @module device
 * What a client sets up before it can sync: the store (opened here unless the app passes one), the
 * device id kept in it, the pinned trust root, and the device profile that tickets carry for
 * rollout targeting.
 */
import { DEFAULT_SIZE_CAPS, type DeviceProfile, parseEnvelope } from '@modelfleet/protocol';
import { SdkError } from './errors.ts';
import { detectProfile, profileQuery, storageTierOf } from './profile.ts';
import type { Report } from './report.ts';
import { type ModelStore, openStore } from './store.ts';
import type { SyncContext } from './sync.ts';
import type { ClientOptions } from './client-options.ts';

/** The IndexedDB database a client opens when the app names none. */
export const DEFAULT_DB_NAME = 'modelfleet';
/** Chunk requests in flight by default; ClientOptions.parallel says why 6. */
export const DEFAULT_PARALLEL = 6;

export interface Device {
  store: ModelStore;
  deviceId: string;
  ctx: SyncContext;
}

export async function openDevice(options: ClientOptions, report: Report): Promise<Device> {
  const store = typeof options.storage === 'object' ? options.storage : await open(options.storage);
  const [storedId, cachedTier] = await Promise.all([
    options.deviceId ? undefined : store.getMeta('deviceId'),
    store.getMeta('storageTier').catch((e) => void report('storage_read', e)) as Promise<DeviceProfile['storageTier']>,
  ]);
  let deviceId = options.deviceId ?? storedId;
  if (!deviceId) await store.putMeta('deviceId', (deviceId = crypto.randomUUID()));
  const { trustRoot: given } = options;
  const trustRoot = typeof given === 'string' ? parseEnvelope(given, 'trustRoot') : given;
  const fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const ctx: SyncContext = {
    edge: { endpoint: options.endpoint.replace(/\/$/, ''), appKey: options.appKey, fetch, report },
    store,
    trustRoot,
    deviceId,
    caps: options.caps ?? DEFAULT_SIZE_CAPS,
    parallel: options.parallel ?? DEFAULT_PARALLEL,
    now: options.now ?? (() => new Date()),
    ...(options.attest ? { attest: options.attest } : {}),
    ...(hasEstimate() ? { estimate: () => navigator.storage.estimate() } : {}),
  };
  ctx.profileQuery = profileFor(options, store, cachedTier, ctx.estimate, report);
  return { store, deviceId, ctx };
}

/** navigator.storage.estimate is there (browsers; not Node, not some WebViews). */
const hasEstimate = () => typeof navigator !== 'undefined' && !!navigator.storage?.estimate;

async function open(name = DEFAULT_DB_NAME): Promise<ModelStore> {
  return openStore(name).catch((e) => {
    const why = `IndexedDB is not available here (${(e as Error).message}); models cannot be cached`;
    throw new SdkError('storage_unavailable', why, e);
  });
}

/**
 * Rollout targeting: what the device knows at once, plus the storage tier from the last quota
 * estimate (kept in IndexedDB). The estimate takes 20–40 ms in a fresh browser profile, so no
 * request waits for it: a new device's first ticket goes without a storage tier (targeted as
 * unknown: it stays on the champion of a rollout that targets storage tiers) until it resolves.
 */
function profileFor(
  options: ClientOptions,
  store: ModelStore,
  cachedTier: DeviceProfile['storageTier'],
  estimate: SyncContext['estimate'],
  report: Report,
): () => string {
  const known = detectProfile({
    ...(options.platform ? { platform: options.platform } : {}),
    ...(options.appVersion ? { appVersion: options.appVersion } : {}),
  });
  let query = profileQuery({ ...known, ...(cachedTier ? { storageTier: cachedTier } : {}) });
  void estimate?.()
    .then(({ quota }) => {
      const tier = storageTierOf(quota);
      if (!tier) return;
      query = profileQuery({ ...known, storageTier: tier });
      if (tier !== cachedTier) return store.putMeta('storageTier', tier);
    })
    .catch((e) => report('storage_estimate', e));
  return () => query;
}
