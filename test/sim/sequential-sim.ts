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
import { DEFAULT_ANALYSIS, type MetricCheck, addReleaseNoise, addUpload, emptyAggregate, healthLayout, healthUpload, mergeSketches } from '@modelfleet/protocol';
import { seededUniform, seededWords } from '@modelfleet/protocol/testing';
import { summarizeHealth } from '../../control-plane/src/drift/health-summary.ts';
import { HEALTH_SHARE, HEALTH_SPLIT, releaseNoiseForRho, rhoFor } from '../../control-plane/src/drift/privacy.ts';
import { type Arm, type Rule, isRateMetric, judge } from '../../control-plane/src/rollouts/judge.ts';
import { alphaPerMetric, combinedNoise, incrementNeed } from '../../control-plane/src/rollouts/sequential.ts';

type Aggregate = ReturnType<typeof emptyAggregate>;
export type Outcome = 'promote' | 'hold' | 'rollback';

/** 'geometric': the production schedule (incrementNeed); 'every': one release per block (a look after each). */
export interface SeqOptions { epsilon?: number; rate?: number; floor?: number; poolBlocks?: number; seed?: number; analysis?: MetricCheck[]; schedule?: 'geometric' | 'every' }

/** Raw `floor`-device blocks (challenger with +extra error rate) and the release noise of a step at ε. */
export async function blockPool(extras: number[], opts: SeqOptions = {}) {
  const layout = await healthLayout();
  const floor = opts.floor ?? 1000;
  const uniform = seededUniform(opts.seed ?? 11);
  const normal = () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const records = new Map<string, Awaited<ReturnType<typeof healthUpload>>>();
  const latencies = Array.from({ length: 20 }, (_, i) => 2 + (i % 7));
  const record = async (errors: number, calls: number) => {
    const key = `${errors}/${calls}`;
    if (!records.has(key)) records.set(key, await healthUpload({ load: { ok: 1 }, predict: { ok: calls - errors, inference_error: errors }, latencies, backend: { wasm: calls } }, 1));
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
        const calls = 50 + Math.floor(uniform() * 150);
        let errors = 0;
        for (let c = 0; c < calls; c++) if (uniform() < deviceRate) errors++;
        addUpload(agg, (await record(errors, calls))!);
      }
      blocks.push(agg);
    }
    pools.set(extra, blocks);
  }
  const noise = releaseNoiseForRho(layout, rhoFor(opts.epsilon ?? 2, 1e-6) * HEALTH_SHARE, HEALTH_SPLIT);
  return { pools, noise, floor, uniform };
}

type Pool = Awaited<ReturnType<typeof blockPool>>;

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
  runs: number; devicesPerArm: number; extraPp: number;
  sequential: Record<Outcome, number> & { looks: number[] };
  naive: Record<Outcome, number>;
  today: Record<Outcome, number>;
  /** What the Worker did before issue 16: one release as soon as both arms had the floor, judged ± 2 SE, never more data. */
  firstOnly: Record<Outcome, number>;
}

/**
 * `runs` steps whose arms reach `devicesPerArm` devices (in whole blocks), the challenger's error
 * rate `extraPp` points higher. Increments follow incrementNeed; each rule stops at its first decision.
 */
export function stepRuns(pool: Pool, runs: number, devicesPerArm: number, extraPp: number, opts: SeqOptions = {}): CellResult {
  const analysis = (opts.analysis ?? DEFAULT_ANALYSIS).map((c) => ({ ...c, minSample: Math.min(c.minSample, pool.floor) }));
  const sequential: Rule = { kind: 'sequential', alpha: alphaPerMetric(analysis.filter((c) => isRateMetric(c.metric)).length) };
  const fixed: Rule = { kind: 'fixed' };
  const tally = (): Record<Outcome, number> => ({ promote: 0, hold: 0, rollback: 0 });
  const out: CellResult = { runs, devicesPerArm, extraPp, sequential: { ...tally(), looks: [] }, naive: tally(), today: tally(), firstOnly: tally() };
  const total = Math.floor(devicesPerArm / pool.floor);
  const extra = extraPp / 100;
  const sigma = pool.noise.categoricalBins;
  for (let r = 0; r < runs; r++) {
    // The increments' sizes in blocks: released totals 1, 4, 16, … blocks, while the arm has them.
    const sizes: number[] = [];
    for (let released = 0; ;) {
      const need = opts.schedule === 'every' ? 1 : incrementNeed(1, released);
      if (released + need > total) break;
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
        addReleaseNoise(inc, pool.noise, seededWords(Math.floor(pool.uniform() * 2 ** 31)));
        arms[which] = arms[which] ? mergeSketches(arms[which]!, inc) : inc;
      }
      const arm = (a: Aggregate): Arm => ({ devices: a.devices, summary: summarizeHealth(a), noise: combinedNoise(new Array(k + 1).fill(sigma)), closedAt: '', releases: k + 1 });
      const [a, b] = [arm(arms.challenger!), arm(arms.control!)];
      if (!seqDone) {
        const o = decide(a, b, analysis, sequential);
        if (o !== 'hold') {
          seqDone = o;
          out.sequential.looks.push(k + 1);
        }
      }
      naiveDone ??= ((o) => (o === 'hold' ? null : o))(decide(a, b, analysis, fixed));
    });
    out.sequential[seqDone ?? 'hold']++;
    out.naive[naiveDone ?? 'hold']++;
    // Today: the whole arm (all its blocks) released once, judged once.
    const whole = (which: 'challenger' | 'control') => {
      let agg = raw[which].length ? raw[which].reduce((x, y) => mergeSketches(x, y)) : null;
      const rest = total - (agg ? agg.devices / pool.floor : 0);
      if (rest > 0) agg = agg ? mergeSketches(agg, draw(pool, which === 'challenger' ? extra : 0, rest)) : draw(pool, which === 'challenger' ? extra : 0, rest);
      addReleaseNoise(agg!, pool.noise, seededWords(Math.floor(pool.uniform() * 2 ** 31)));
      return { devices: agg!.devices, summary: summarizeHealth(agg!), noise: sigma, closedAt: '' } satisfies Arm;
    };
    out.today[decide(whole('challenger'), whole('control'), analysis, fixed)]++;
    const first = (which: 'challenger' | 'control') => {
      const agg = draw(pool, which === 'challenger' ? extra : 0, 1);
      addReleaseNoise(agg, pool.noise, seededWords(Math.floor(pool.uniform() * 2 ** 31)));
      return { devices: agg.devices, summary: summarizeHealth(agg), noise: sigma, closedAt: '' } satisfies Arm;
    };
    out.firstOnly[decide(first('challenger'), first('control'), analysis, fixed)]++;
  }
  return out;
}

export const median = (xs: number[]): number | null => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : null);

/**
 * The `npm run sim:rollout` rows (issue 16): per arm size, A/A, +0.5 pp and +2 pp inference errors
 * at ε = 2 with the default metrics — the sequential rule on the production increments beside
 * today's rule (one release of the whole arm, ± 2 SE).
 */
export async function sequentialTable(opts: { sizes?: number[]; aaRuns?: number; regRuns?: number; seed?: number } = {}) {
  const pool = await blockPool([0, 0.005, 0.02], { seed: opts.seed ?? 16, poolBlocks: 100 });
  const fmt = (t: Record<Outcome, number>) => `${t.promote} / ${t.rollback} / ${t.hold}`;
  const rows = [];
  for (const devices of opts.sizes ?? [1000, 5000, 20_000]) {
    for (const [extraPp, runs] of [[0, opts.aaRuns ?? 200], [2, opts.regRuns ?? 100], [0.5, opts.regRuns ?? 100]] as const) {
      const r = stepRuns(pool, runs, devices, extraPp);
      const looks = median(r.sequential.looks);
      rows.push({
        'devices per arm': devices.toLocaleString('en-US'),
        challenger: extraPp === 0 ? 'A/A' : `+${extraPp} pp inference errors`,
        runs,
        'sequential (promoted / rolled back / held)': fmt(r.sequential),
        'median increments to decide': looks === null ? '—' : String(looks),
        'today, one release of the whole arm (± 2 SE)': fmt(r.today),
        "today's Worker: one release at the first 1,000": fmt(r.firstOnly),
        'peeking ± 2 SE at each increment': fmt(r.naive),
      });
    }
  }
  return rows;
}
