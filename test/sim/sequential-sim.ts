/**
 * @module sim/sequential-sim
 * Step decisions under continuous monitoring (issue 16), fast enough for hundreds of runs: each
 * arm's step health arrives in increments (the production schedule, sequential.ts incrementNeed),
 * every increment is noised with the production discrete Gaussian at the step's health budget,
 * the arm is the merged sum of its releases (protocol mergeSketches), summarised by
 * summarizeHealth and judged by judge.ts with the default safety metrics after every increment —
 * the first decision (promote or roll back) ends the run.
 *
 * Speed: devices are simulated as in rollout-sim healthFleet (heterogeneous error rates, 50–200
 * calls each), but their raw (un-noised) aggregates are built once into a pool of `floor`-device
 * blocks per effect size and each increment draws blocks from it; every release's noise is fresh.
 * At ε = 2 the release noise (σ ≈ 20 devices) dwarfs the block-to-block spread (≈ 0.2 devices),
 * so reusing blocks changes nothing measurable, and it makes 500-run cells take seconds.
 *
 * Three rules are compared on the same data:
 *   sequential — the production rule: increments, always-valid CS (α = 0.05 over the rate metrics);
 *   naive      — the same increments, checked after each with "observed ± 2 SE" (peeking);
 *   today      — one release of the whole arm, judged once with ± 2 SE (what `aaRuns` measures);
 *   firstOnly  — what the Worker's step path did before: one release at the floor, never more.
 */
import {
  DEFAULT_ANALYSIS,
  type MetricCheck,
  type ReleaseNoise,
  addReleaseNoise,
  addUpload,
  emptyAggregate,
  healthLayout,
  healthUpload,
  mergeSketches,
} from '@modelfleet/protocol';
import { boxMuller, seededUniform, seededWords } from '@modelfleet/protocol/testing';
import { summarizeHealth } from '../../control-plane/src/drift/health-summary.ts';
import { HEALTH_SHARE, HEALTH_SPLIT, releaseNoiseForRho, rhoFor } from '../../control-plane/src/drift/privacy.ts';
import { type Arm, type Rule, isRateMetric, judge } from '../../control-plane/src/rollouts/judge.ts';
import { deriveDefaults } from '../../control-plane/src/rollouts/plan-defaults.ts';
import { SEQUENTIAL_RULE } from '../../control-plane/src/rollouts/power.ts';
import { alphaPerMetric, combinedNoise, incrementNeed } from '../../control-plane/src/rollouts/sequential.ts';
import { planHealthNoise, stepPrivacy } from '../../control-plane/src/rollouts/step-budget.ts';

type Aggregate = ReturnType<typeof emptyAggregate>;
export type Outcome = 'promote' | 'hold' | 'rollback';

/** 'geometric': the production schedule (incrementNeed); 'every': one release per block (a look after each). */
export interface SeqOptions {
  epsilon?: number;
  rate?: number;
  floor?: number;
  poolBlocks?: number;
  seed?: number;
  analysis?: MetricCheck[];
  schedule?: 'geometric' | 'every';
  /** The step's health release noise (default: the pool's, the step budget on the default plan's features). */
  noise?: ReleaseNoise;
  /** Predictions per device (default 50–200 at random); 1 makes each device's share 0 or 1, so its spread is exactly the binomial p(1 − p) judge.ts assumes. */
  calls?: number;
  /** Days of devices the sequential rule may collect before the run counts as held (default 1; the "before" columns always see one). */
  days?: number;
  /** The noise and plan of the "before issue 16" columns (default: the same as the sequential rule's). */
  before?: { noise: ReleaseNoise; analysis: MetricCheck[] };
}

/** Raw `floor`-device blocks (challenger with +extra error rate) and the release noise of a step at ε. */
export async function blockPool(extras: number[], opts: SeqOptions = {}) {
  const layout = await healthLayout();
  const floor = opts.floor ?? 1000;
  const uniform = seededUniform(opts.seed ?? 11);
  const normal = boxMuller(uniform);
  const records = new Map<string, Awaited<ReturnType<typeof healthUpload>>>();
  const latencies = Array.from({ length: 20 }, (_, i) => 2 + (i % 7));
  const record = async (errors: number, calls: number) => {
    const key = `${errors}/${calls}`;
    if (!records.has(key))
      records.set(
        key,
        await healthUpload(
          {
            load: { ok: 1 },
            predict: { ok: calls - errors, inference_error: errors },
            latencies,
            backend: { wasm: calls },
          },
          1,
        ),
      );
    return records.get(key)!;
  };
  const rate = opts.rate ?? 0.002;
  const pools = new Map<number, Aggregate[]>();
  for (const extra of extras) {
    const blocks: Aggregate[] = [];
    for (let b = 0; b < (opts.poolBlocks ?? 60); b++) {
      const agg = emptyAggregate(layout, 1);
      for (let d = 0; d < floor; d++) {
        const deviceRate = Math.min(1, Math.max(0, rate * Math.exp(0.5 * normal() - 0.125) + extra));
        const calls = opts.calls ?? 50 + Math.floor(uniform() * 150);
        let errors = 0;
        for (let c = 0; c < calls; c++) if (uniform() < deviceRate) errors++;
        addUpload(agg, (await record(errors, calls))!);
      }
      blocks.push(agg);
    }
    pools.set(extra, blocks);
  }
  const noise = await stepNoise(opts.epsilon ?? 2, DEFAULT_ANALYSIS);
  return { pools, noise, floor, uniform };
}

type Pool = Awaited<ReturnType<typeof blockPool>>;

/** A step's health release noise for a plan judging `analysis` (production: increments.ts via step-budget.ts). */
export async function stepNoise(epsilon: number, analysis: readonly MetricCheck[]): Promise<ReleaseNoise> {
  return planHealthNoise(await healthLayout(), rhoFor(epsilon, 1e-6), analysis)!;
}
/** The same before issue 16: a fixed 10 % of the step's ρ, every health feature released. */
export const fixedShareNoise = async (epsilon: number): Promise<ReleaseNoise> =>
  releaseNoiseForRho(await healthLayout(), rhoFor(epsilon, 1e-6) * HEALTH_SHARE, HEALTH_SPLIT);

/** `blocks` raw blocks of the pool drawn at random, merged. */
function draw(pool: Pool, extra: number, blocks: number): Aggregate {
  const from = pool.pools.get(extra)!;
  let agg = structuredClone(from[Math.floor(pool.uniform() * from.length)]!);
  for (let i = 1; i < blocks; i++) agg = mergeSketches(agg, from[Math.floor(pool.uniform() * from.length)]!);
  return agg;
}

function decide(challenger: Arm, control: Arm, analysis: MetricCheck[], rule: Rule): Outcome {
  const metrics = analysis.map((c) => judge(c, challenger, control, rule));
  if (metrics.some((m) => m.status === 'fail' && m.critical)) return 'rollback';
  return metrics.every((m) => m.status === 'pass') ? 'promote' : 'hold';
}

export interface CellResult {
  runs: number;
  devicesPerArm: number;
  extraPp: number;
  /** looks: the increment that decided; blocks: the devices (in pool blocks, per arm) released by then. */
  sequential: Record<Outcome, number> & {
    looks: number[];
    blocks: number[];
    decided: { outcome: Outcome; blocks: number }[];
  };
  naive: Record<Outcome, number>;
  today: Record<Outcome, number>;
  /** What the Worker did before issue 16: one release as soon as both arms had the floor, judged ± 2 SE, never more data. */
  firstOnly: Record<Outcome, number>;
}

/**
 * `runs` steps whose arms reach `devicesPerArm` devices (in whole blocks), the challenger's error
 * rate `extraPp` points higher. Increments follow incrementNeed; each rule stops at its first decision.
 */
export function stepRuns(
  pool: Pool,
  runs: number,
  devicesPerArm: number,
  extraPp: number,
  opts: SeqOptions = {},
): CellResult {
  const analysis =
    opts.analysis ?? DEFAULT_ANALYSIS.map((c) => ({ ...c, minSample: Math.min(c.minSample, pool.floor) }));
  const sequential: Rule = {
    kind: 'sequential',
    alpha: alphaPerMetric(analysis.filter((c) => isRateMetric(c.metric)).length),
  };
  const fixed: Rule = { kind: 'fixed' };
  const tally = (): Record<Outcome, number> => ({ promote: 0, hold: 0, rollback: 0 });
  const out: CellResult = {
    runs,
    devicesPerArm,
    extraPp,
    sequential: { ...tally(), looks: [], blocks: [], decided: [] },
    naive: tally(),
    today: tally(),
    firstOnly: tally(),
  };
  const total = Math.floor(devicesPerArm / pool.floor);
  const horizon = Math.floor((devicesPerArm * (opts.days ?? 1)) / pool.floor);
  const extra = extraPp / 100;
  const noise = opts.noise ?? pool.noise;
  const sigma = noise.categoricalBins;
  // The first release waits for the plan's minSample (increments.ts releaseFloor), in whole blocks.
  const first = Math.max(1, Math.ceil(Math.max(...analysis.map((c) => c.minSample)) / pool.floor));
  for (let r = 0; r < runs; r++) {
    // The increments' sizes in blocks: released totals 1, 4, 16, … blocks, while the arm has them.
    const sizes: number[] = [];
    for (let released = 0; ; ) {
      const need = opts.schedule === 'every' ? 1 : incrementNeed(first, released);
      if (released + need > horizon) break;
      sizes.push(need);
      released += need;
    }
    const arms = { challenger: null as Aggregate | null, control: null as Aggregate | null };
    const raw = { challenger: [] as Aggregate[], control: [] as Aggregate[] };
    let seqDone: Outcome | null = null;
    let naiveDone: Outcome | null = null;
    sizes.forEach((blocks, k) => {
      for (const which of ['challenger', 'control'] as const) {
        const inc = draw(pool, which === 'challenger' ? extra : 0, blocks);
        raw[which].push(structuredClone(inc));
        addReleaseNoise(inc, noise, seededWords(Math.floor(pool.uniform() * 2 ** 31)));
        arms[which] = arms[which] ? mergeSketches(arms[which]!, inc) : inc;
      }
      const arm = (a: Aggregate): Arm => ({
        devices: a.devices,
        summary: summarizeHealth(a),
        noise: combinedNoise(new Array(k + 1).fill(sigma)),
        closedAt: '',
        releases: k + 1,
      });
      const [a, b] = [arm(arms.challenger!), arm(arms.control!)];
      if (!seqDone) {
        const o = decide(a, b, analysis, sequential);
        if (o !== 'hold') {
          seqDone = o;
          out.sequential.looks.push(k + 1);
          out.sequential.blocks.push(sizes.slice(0, k + 1).reduce((x, y) => x + y, 0));
          out.sequential.decided.push({ outcome: o, blocks: out.sequential.blocks.at(-1)! });
        }
      }
      naiveDone ??= ((o) => (o === 'hold' ? null : o))(decide(a, b, analysis, fixed));
    });
    out.sequential[seqDone ?? 'hold']++;
    out.naive[naiveDone ?? 'hold']++;
    // Before issue 16 (opts.before: its noise and plan): the whole arm released once, judged once ± 2 SE …
    const past = { noise: opts.before?.noise ?? noise, analysis: opts.before?.analysis ?? analysis };
    const whole = (which: 'challenger' | 'control') => {
      let agg = raw[which].length ? raw[which].reduce((x, y) => mergeSketches(x, y)) : null;
      const rest = total - (agg ? agg.devices / pool.floor : 0);
      if (rest > 0)
        agg = agg
          ? mergeSketches(agg, draw(pool, which === 'challenger' ? extra : 0, rest))
          : draw(pool, which === 'challenger' ? extra : 0, rest);
      addReleaseNoise(agg!, past.noise, seededWords(Math.floor(pool.uniform() * 2 ** 31)));
      return {
        devices: agg!.devices,
        summary: summarizeHealth(agg!),
        noise: past.noise.categoricalBins,
        closedAt: '',
      } satisfies Arm;
    };
    out.today[decide(whole('challenger'), whole('control'), past.analysis, fixed)]++;
    // … and what the Worker did: one release of the first block (1,000 devices), never more.
    const firstBlock = (which: 'challenger' | 'control') => {
      const agg = draw(pool, which === 'challenger' ? extra : 0, 1);
      addReleaseNoise(agg, past.noise, seededWords(Math.floor(pool.uniform() * 2 ** 31)));
      return {
        devices: agg.devices,
        summary: summarizeHealth(agg),
        noise: past.noise.categoricalBins,
        closedAt: '',
      } satisfies Arm;
    };
    out.firstOnly[
      decide(
        firstBlock('challenger'),
        firstBlock('control'),
        past.analysis.map((c) => ({ ...c, minSample: Math.min(c.minSample, pool.floor) })),
        fixed,
      )
    ]++;
  }
  return out;
}

export const median = (xs: number[]): number | null =>
  xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : null;

/** The simulated fleet's device-level rates (blockPool: load, verify and non-finite never fail; inference errors ≈ `rate`). */
const simRates = (rate: number) => ({
  load_failure_rate: 0,
  verify_failure_rate: 0,
  inference_error_rate: rate,
  non_finite_rate: 0,
});

/**
 * The plan production derives (power.ts deriveDefaults, default policy) for a fleet whose first
 * step (10 %) puts `devicesPerArm` devices a day in each arm, at the simulated fleet's rates.
 */
export async function derivedPlan(
  devicesPerArm: number,
  judged: readonly MetricCheck[] = DEFAULT_ANALYSIS,
  epsilon = 2,
  rate = 0.002,
) {
  const privacy = await stepPrivacy(epsilon, judged);
  const fleet = { devicesPerDay: devicesPerArm * 10, windows: 7, basis: 'simulated', rates: simRates(rate) };
  return deriveDefaults({}, fleet, privacy, SEQUENTIAL_RULE, 10, 3600);
}

/** A plan that also judges prediction drift: the step budget is shared with the sketches (health gets half). */
const WITH_DRIFT: MetricCheck[] = [
  ...DEFAULT_ANALYSIS,
  { metric: 'prediction_drift', tolerance: 0, minSample: 1000, critical: true },
];

/**
 * The `npm run sim:rollout` rows (issue 16): per arm size (devices a day in each arm), A/A, +2 pp
 * and +0.5 pp inference errors at ε = 2 — the production rule (the plan derived for that fleet,
 * the step budget on the health features it judges, increments judged by the always-valid
 * sequence) beside the rule before issue 16 (the fixed default plan, 10 % of the step budget on
 * health, ± 2 SE on the first 1,000 devices — or on one release of the whole arm). A run covers
 * up to four days of an arm's devices (a step that has not decided keeps collecting: the second
 * look comes at 4× minSample); time to decision is in bake intervals of the derived plan (1 h).
 */
export async function sequentialTable(
  opts: { sizes?: number[]; aaRuns?: number; regRuns?: number; seed?: number } = {},
) {
  const pool = await blockPool([0, 0.005, 0.02], { seed: opts.seed ?? 16, poolBlocks: 100 });
  const [noise, before] = [
    await stepNoise(2, DEFAULT_ANALYSIS),
    { noise: await fixedShareNoise(2), analysis: DEFAULT_ANALYSIS },
  ];
  const fmt = (t: Record<Outcome, number>) => `${t.promote} / ${t.rollback} / ${t.hold}`;
  const rows = [];
  // The Done-means cells, and 5,000 a day again with the step budget shared with drift sketches
  // (only the health metrics are simulated: their decisions at half the health budget).
  const cells = [
    ...(opts.sizes ?? [1000, 5000, 20_000]).map((devices) => ({ devices, judged: DEFAULT_ANALYSIS })),
    { devices: 5000, judged: WITH_DRIFT },
  ];
  for (const { devices, judged } of cells) {
    const plan = await derivedPlan(devices, judged);
    const shared = judged !== DEFAULT_ANALYSIS;
    const cellNoise = shared ? await stepNoise(2, judged) : noise;
    const tol = (m: string) => plan.analysis.find((c) => c.metric === m)!.tolerance;
    for (const [extraPp, runs] of (shared
      ? [
          [0, opts.aaRuns ?? 200],
          [2, opts.regRuns ?? 100],
        ]
      : [
          [0, opts.aaRuns ?? 200],
          [2, opts.regRuns ?? 100],
          [0.5, opts.regRuns ?? 100],
        ]) as [number, number][]) {
      const r = stepRuns(pool, runs, devices, extraPp, { analysis: plan.analysis, noise: cellNoise, before, days: 4 });
      const blocks = median(r.sequential.blocks);
      const oneDay = r.sequential.decided.filter((d) => d.blocks * pool.floor <= devices);
      const count = (o: Outcome) => oneDay.filter((d) => d.outcome === o).length;
      rows.push({
        'devices per arm a day': `${devices.toLocaleString('en-US')}${shared ? ' (plan also judges prediction drift: health on ½ the step ε)' : ''}`,
        'derived plan: inference / verify tolerance, minSample': `${tol('inference_error_rate')} / ${tol('verify_failure_rate')}, ${plan.analysis[0]!.minSample.toLocaleString('en-US')}`,
        challenger: extraPp === 0 ? 'A/A' : `+${extraPp} pp inference errors`,
        runs,
        'now, within 1 day: promoted / rolled back / held': `${count('promote')} / ${count('rollback')} / ${runs - oneDay.length}`,
        'now, within 4 days': fmt(r.sequential),
        'median bakes (1 h) to decide': blocks === null ? '—' : String(Math.ceil((blocks * pool.floor * 24) / devices)),
        'before: first 1,000, ± 2 SE, fixed plan, health 10 %': fmt(r.firstOnly),
        'before: whole day once, ± 2 SE': fmt(r.today),
      });
    }
  }
  return rows;
}
