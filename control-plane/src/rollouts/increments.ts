/**
 * @module rollouts/increments
 * A rollout step's health evidence, accumulated release by release (issue 16). The step's
 * aggregate (one per arm: the challenger range on the challenger, the control range on the
 * champion) releases an **increment** — the devices that reported since the last one, noised once
 * — whenever both arms have enough new devices (the release floor, then geometrically more:
 * sequential.ts incrementNeed); each increment is recorded in D1
 * (`step_increments`) and in the privacy ledger, then acknowledged. An arm is the sum of its
 * increments (sums add; so do their noise variances), judged by the always-valid confidence
 * sequence (sequential.ts), so the step may decide after any increment without peeking its way
 * into a false decision.
 *
 * Privacy: a device's step record lands in exactly one increment of its step (the aggregate's
 * seen-set refuses a second), so the increments of a step hold disjoint devices and compose in
 * parallel: each device's loss from the step's records is one increment's ρ, however many are
 * released. The day's first increment of a step therefore spends ρ from the day's step budget
 * (ledger scope 'step'); the day's later increments add no device's loss and are ledgered with
 * ρ = 0 (scope 'step-increment'; their own noise cost is kept in `step_increments.rho`). One gap in
 * that argument: an increment closes when its arms reach `need` devices, so under add/remove
 * adjacency one device can move where the next boundary falls (the same count-threshold leak the
 * release floor already has); under replace-one adjacency the partition is fixed and it is exact.
 */
import { aggregateStub, vars, windowSeconds } from '@modelfleet/server-shared';
import {
  type ReleaseNoise,
  type SketchAggregate,
  type SketchLayout,
  healthLayout,
  mergeSketches,
  stepCohort,
  windowOf,
  windowStart,
} from '@modelfleet/protocol';
import { DELTA } from '../drift/close.ts';
import { summarizeHealth } from '../drift/health-summary.ts';
import type { NetworkCounts } from '../drift/networks.ts';
import { epsilonFor, rhoFor, rhoSpent } from '../drift/privacy.ts';
import type { Env } from '../env.ts';
import { crashPoint } from '../fault/crash-points.ts';
import type { Arm } from './judge.ts';
import type { RolloutView } from './machine.ts';
import { combinedNoise, incrementNeed } from './sequential.ts';
import { planHealthNoise } from './step-budget.ts';

/**
 * What one step's releases spend (ρ): the day's ε (DRIFT_EPSILON_PER_DAY), split between its
 * channels by step-budget.ts. The day's cap on all step releases of a model is
 * ROLLOUT_STEP_EPSILON_PER_DAY (analysis.ts stepBudget; default the same ε: one step a day is
 * judged on its own data, more when an operator raises the cap).
 */
export const stepReleaseRho = (env: Env): number => rhoFor(vars(env).DRIFT_EPSILON_PER_DAY, DELTA);

/** What a model's step releases may still spend today (analysis.ts stepBudget). */
export interface StepBudget {
  refused: boolean;
  take(rho: number): Promise<boolean>;
}

interface IncrementRow {
  version: number;
  increment: number;
  devices: number;
  aggregate: string;
  noise: string;
  networks: string | null;
  released_at: string;
}

/** Devices a release needs in each arm: the release floor and the plan's smallest minSample. */
export const releaseFloor = (env: Env, r: RolloutView): number =>
  Math.max(vars(env).DRIFT_MIN_DEVICES, Math.min(...r.plan.analysis.map((c) => c.minSample)));

/** When the ledger's current window began (the UTC day, with day windows: WINDOW_SECONDS). */
const windowBegan = (env: Env) =>
  windowStart(windowOf(new Date(), windowSeconds(env)), windowSeconds(env)).toISOString();

/** A step's recorded increments, oldest first (both arms). */
async function readIncrements(env: Env, rolloutId: string, sequence: number): Promise<IncrementRow[]> {
  return (
    await env.DB.prepare(
      'SELECT version, increment, devices, aggregate, noise, networks, released_at FROM step_increments WHERE rollout_id = ? AND sequence = ? ORDER BY increment',
    )
      .bind(rolloutId, sequence)
      .all<IncrementRow>()
  ).results;
}

/**
 * Records any released increment not yet in D1 (a tick that crashed after the release: its stored
 * noised sums, never fresh noise), releases a new one when both arms are ready and the budget
 * allows, and returns each arm as the sum of all its recorded increments (null before the first).
 */
export async function stepIncrements(
  env: Env,
  r: RolloutView & { modelId: number },
  sequence: number,
  budget: StepBudget,
): Promise<{ challenger: Arm; control: Arm; reported: number } | null> {
  const cohort = stepCohort(r.id);
  const stubs = [
    aggregateStub(env, r.model, r.challenger, sequence, cohort),
    aggregateStub(env, r.model, r.champion, sequence, cohort),
  ] as const;
  const versions = [r.challenger, r.champion] as const;
  const floor = releaseFloor(env, r);
  let rows = await readIncrements(env, r.id, sequence);
  const need = versions.map((v) =>
    incrementNeed(
      floor,
      rows.filter((x) => x.version === v).reduce((s, x) => s + x.devices, 0),
    ),
  );
  const [sa, sb] = await Promise.all(stubs.map((s) => s.status()));
  const pending = Boolean(sa!.pending || sb!.pending);
  const fresh = (x: typeof sa) => x!.unreleased ?? x!.devices; // devices since the last increment
  if (pending || (fresh(sa) >= need[0]! && fresh(sb) >= need[1]!)) {
    const recorded = await releaseIncrements(env, { r, sequence, stubs, versions, rows, need, pending, budget });
    if (recorded) rows = await readIncrements(env, r.id, sequence);
  }
  const [challenger, control] = [armOf(rows, r.challenger), armOf(rows, r.champion)];
  // reported: the thinner arm's devices so far, released or not (how fast the step collects).
  return challenger && control ? { challenger, control, reported: Math.min(sa!.devices, sb!.devices) } : null;
}

type StepStub = ReturnType<typeof aggregateStub>;

/** A step whose arms are ready (or hold a pending increment): what releasing its next increments needs. */
interface ReadyStep {
  r: RolloutView & { modelId: number };
  sequence: number;
  /** The arms' aggregates and versions: challenger, then control (on the champion). */
  stubs: readonly [StepStub, StepStub];
  versions: readonly [number, number];
  rows: IncrementRow[];
  need: number[];
  pending: boolean;
  budget: StepBudget;
}

/** Releases the arms' next increments when the budget allows and records the new ones; true when any was recorded. */
async function releaseIncrements(env: Env, step: ReadyStep): Promise<boolean> {
  const { r, stubs, versions, rows, need, pending, budget } = step;
  const layout = await healthLayout();
  // The health channel's share of the step's budget, on the features the plan reads (step-budget.ts).
  const asked = planHealthNoise(layout, stepReleaseRho(env), r.plan.analysis)!; // a step is judged on health only when its plan reads some
  // Parallel composition (module comment): only the day's first increment of this step spends.
  const charged = rows.some((x) => x.released_at >= windowBegan(env));
  const allowed = charged || (await budget.take(rhoSpent(layout, asked))) || pending; // a pending increment was paid for before its tick crashed
  if (!allowed) return false;
  const released = await Promise.all(stubs.map((s, i) => s.releaseIncrement(need[i]!, asked)));
  await crashPoint(env, 'step-health:after-release');
  const networks = await Promise.all(stubs.map((s) => s.networkCounts()));
  const fresh = released
    .map((x, i) => ({ x, version: versions[i]!, networks: networks[i]! }))
    .filter(
      ({ x, version }) =>
        x.index !== null &&
        x.released &&
        x.noise &&
        !rows.some((row) => row.version === version && row.increment === x.index),
    );
  if (fresh.length > 0) {
    await recordIncrements(env, step, layout, fresh, charged);
    await crashPoint(env, 'step-health:after-commit');
  }
  // Recorded (now or by a crashed tick): the stored releases can go.
  await Promise.all(released.map((x, i) => (x.index !== null ? stubs[i]!.ackIncrement(x.index) : undefined)));
  return fresh.length > 0;
}

type FreshIncrement = {
  x: Awaited<ReturnType<StepStub['releaseIncrement']>>;
  version: number;
  networks: NetworkCounts;
};

/** The new increments in D1 and their spend in the privacy ledger, in one batch. */
async function recordIncrements(
  env: Env,
  step: ReadyStep,
  layout: SketchLayout,
  fresh: FreshIncrement[],
  charged: boolean,
): Promise<void> {
  const { r, sequence } = step;
  const at = new Date().toISOString();
  const rho = Math.max(...fresh.map(({ x }) => rhoSpent(layout, x.noise!))); // disjoint devices in the two arms: one spend
  const insert = ({ x, version, networks: n }: FreshIncrement) =>
    env.DB.prepare(
      'INSERT OR IGNORE INTO step_increments (model_id, rollout_id, sequence, version, increment, devices, aggregate, noise, rho, networks, released_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).bind(
      r.modelId,
      r.id,
      sequence,
      version,
      x.index,
      x.devices,
      JSON.stringify(x.released),
      JSON.stringify(x.noise),
      rhoSpent(layout, x.noise!),
      JSON.stringify(n),
      at,
    );
  // The ledger sums each device's loss: a later increment of the day adds none (ρ = 0, module comment).
  const [scope, spent] = charged ? ['step-increment', 0] : ['step', rho];
  await env.DB.batch([
    ...fresh.map(insert),
    env.DB.prepare(
      "INSERT INTO privacy_ledger (model_id, window, rho, epsilon, delta, released_at, scope, channel) VALUES (?, ?, ?, ?, ?, ?, ?, 'step-health')",
    ).bind(
      r.modelId,
      windowOf(new Date(), windowSeconds(env)),
      spent,
      spent > 0 ? epsilonFor(spent, DELTA) : 0,
      DELTA,
      at,
      scope,
    ),
  ]);
}

/** An arm as the sum of its recorded increments (sums add; so do their noise variances); null before the first. */
function armOf(rows: IncrementRow[], version: number): Arm | null {
  const mine = rows.filter((x) => x.version === version);
  if (mine.length === 0) return null;
  const sum = mine.map((x) => JSON.parse(x.aggregate) as SketchAggregate).reduce((a, b) => mergeSketches(a, b));
  const last = mine.at(-1)!;
  return {
    devices: sum.devices,
    summary: summarizeHealth(sum),
    releases: mine.length,
    closedAt: last.released_at,
    noise: combinedNoise(mine.map((x) => (JSON.parse(x.noise) as ReleaseNoise).categoricalBins)),
    networks: last.networks ? (JSON.parse(last.networks) as NetworkCounts) : null, // the step aggregate's counts so far
  };
}
