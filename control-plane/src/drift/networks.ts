/**
 * @module drift/networks
 * The Sybil floor (SPEC 11.3): a released aggregate states how many distinct client networks
 * stand behind it, and a drift alarm or a rollout decision that rests on fewer than the floor is
 * withheld. With each network capped at NETWORK_DEVICE_CAP unattested devices per aggregate, an
 * attacker who invents device ids behind one network moves a rate by at most cap / n, and cannot
 * make a decision on its own.
 */
import { type NetworkCounts, VAR_DEFAULTS } from '@modelfleet/server-shared';

/** Default floor for alarms and rollout decisions (DRIFT_MIN_NETWORKS, ROLLOUT_MIN_NETWORKS). */
export const DEFAULT_MIN_NETWORKS = VAR_DEFAULTS.DRIFT_MIN_NETWORKS;

export type { NetworkCounts };

/** Why a verdict is withheld, or null when enough networks stand behind it (unknown counts: rows from before counting). */
export function networkShortfall(counts: NetworkCounts | null, floor: number): string | null {
  if (!counts || counts.networks >= floor) return null;
  return `rests on ${counts.networks} client network${counts.networks === 1 ? '' : 's'} (< ${floor}; ${counts.capped} upload${counts.capped === 1 ? '' : 's'} refused by the per-network cap)`;
}
