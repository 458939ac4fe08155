/**
 * @module drift/window-release
 * A closing window's releases (close.ts): the health aggregate's, the control devices' health
 * aggregate's and, where the version has a baseline, the drift aggregate's, each noised once on
 * its share of the window's ρ; and the acknowledgement that drops the stored releases once the
 * window is recorded. The aggregates keep a release until it is acknowledged, so a crash anywhere
 * up to the ack is completed by the next close on the very same noised sums (and σ).
 */
import { type Aggregator, aggregateStub, vars } from '@modelfleet/server-shared';
import { type SketchLayout, healthLayout } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { crashPoint } from '../fault/crash-points.ts';
import type { NetworkCounts } from './networks.ts';
import { DELTA, HEALTH_SHARE, HEALTH_SPLIT, releaseNoiseForRho, rhoFor, rhoSpent } from './privacy.ts';

/** What an aggregate's release() answers: the noised sums (or null) with their σ, stored until acknowledged. */
export type Release = Awaited<ReturnType<Aggregator['release']>>;

/** Which window of which version is closing. */
export interface WindowKey {
  model: string;
  version: number;
  window: number;
}

export interface WindowReleases {
  /** The drift aggregate's release; nothing released when the version has no baseline. */
  drift: Pick<Release, 'devices' | 'released' | 'noise'>;
  health: Release;
  /** The rollout control devices' health, released beside the rest of the fleet's. */
  control: Release;
  /** Counts of the networks behind each aggregate (SPEC 11.3); the aggregates keep them after a release. */
  networks: { all: NetworkCounts | undefined; health: NetworkCounts | undefined; control: NetworkCounts | undefined };
  /** ρ the releases spent together: the window's privacy ledger entry. */
  spent: number;
}

/** Releases the window's aggregates (see the module comment); `layout` null: no baseline, health only. */
export async function releaseWindow(
  env: Env,
  key: WindowKey,
  layout: SketchLayout | null,
  minDevices: number,
): Promise<WindowReleases> {
  const health = await healthLayout();
  const rho = rhoFor(vars(env).DRIFT_EPSILON_PER_DAY, DELTA);
  const stub = (cohort?: string) => aggregateStub(env, key.model, key.version, key.window, cohort);
  // Health first: when it is released it takes HEALTH_SHARE of the window's ρ, otherwise the drift
  // release keeps the whole budget (device counts, which decide this, are public — README).
  const healthAsked = releaseNoiseForRho(health, layout ? rho * HEALTH_SHARE : rho, HEALTH_SPLIT);
  const cohorts = ['all', 'health', 'health-control'];
  const [nAll, nHealth, nControl] = await Promise.all(cohorts.map((cohort) => stub(cohort).networkCounts()));
  const h = await stub('health').release(minDevices, healthAsked);
  await crashPoint(env, 'close:after-health-release');
  // A rollout's control devices report into their own aggregate: disjoint devices, so releasing it
  // with the same noise costs no more budget (parallel composition).
  const hc = await stub('health-control').release(minDevices, healthAsked);
  const healthNoise = h.noise ?? hc.noise ?? healthAsked;
  const healthReleased = !!(h.released || hc.released);
  const asked = layout ? releaseNoiseForRho(layout, healthReleased ? rho * (1 - HEALTH_SHARE) : rho) : null;
  const r = layout && asked ? await stub().release(minDevices, asked) : { devices: 0, released: null, noise: null };
  await crashPoint(env, 'close:after-release');
  const driftSpent = layout && r.noise && r.released ? rhoSpent(layout, r.noise) : 0;
  return {
    drift: r,
    health: h,
    control: hc,
    networks: { all: nAll, health: nHealth, control: nControl },
    spent: driftSpent + (healthReleased ? rhoSpent(health, healthNoise) : 0),
  };
}

/** Drops the releases the window's aggregates kept for this close (the drift one only where there was one). */
export async function ackReleases(env: Env, key: WindowKey, drift: boolean): Promise<void> {
  const cohorts = ['health', 'health-control', ...(drift ? ['all'] : [])];
  await Promise.all(cohorts.map((cohort) => aggregateStub(env, key.model, key.version, key.window, cohort).ack()));
}
