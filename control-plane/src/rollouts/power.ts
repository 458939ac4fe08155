/**
 * @module rollouts/power
 * Power analysis of a rollout plan before it starts (pure; no I/O, so tests, the docs/rollouts.md table and
 * the simulator use the production figures). For each step: the devices each arm sees per day
 * (the model's daily fleet × the step's share), and per metric when both arms hold the sample
 * that decides under the step's rule (deciding.ts: binomial spread at the fleet's observed rate
 * plus the DP noise of the step's health releases, judged by the always-valid confidence sequence),
 * the minimum detectable effect there, and whether the plan can decide at all.
 *
 * Model of arrivals: the fleet's daily devices report uniformly over the day, so an arm holding
 * d devices a day holds t·d after t days; a sequential step keeps collecting for its whole bake.
 * "Day" is the telemetry window (WINDOW_SECONDS; a UTC day in production): every per-day figure
 * is per window and every duration counts windows, so a demo on 30-s windows gets times in
 * seconds, not in days that never pass.
 *
 * Plans derived from the fleet for what a plan leaves out (deriveDefaults) are in plan-defaults.ts.
 */
import {
  DAY_SECONDS,
  type MetricCheck,
  type MetricPower,
  type PowerReport,
  type RolloutStep,
  type StepPower,
} from '@modelfleet/protocol';
import { epsilonFor, rhoFor } from '../drift/privacy.ts';
import { fitTolerance, niceCeil } from './tolerance.ts';
import {
  type Context,
  type PowerRule,
  SEQUENTIAL_RULE,
  TYPICAL_RATES,
  daysToDecide,
  decisionMargin,
  differenceVariance,
  isSeMetric,
  looksAt,
  singleReleaseSample,
} from './deciding.ts';

export {
  FIXED_RULE,
  type PowerRule,
  SEQUENTIAL_RULE,
  TYPICAL_RATES,
  daysToDecide,
  differenceSE,
  isSeMetric,
} from './deciding.ts';

export const DAY = DAY_SECONDS;
type Metric = MetricCheck['metric'];

/**
 * `rates`: each metric's device-level rate on the fleet (the champion's latest released health
 * window), else TYPICAL_RATES. `windowSeconds`: the telemetry window the counts are per (DAY if absent).
 */
export interface Fleet {
  devicesPerDay: number;
  windows: number;
  basis: string;
  rates?: Partial<Record<Metric, number>>;
  windowSeconds?: number;
}

// fleetWindowSeconds, reachableDays and contextOf are shared with plan-defaults.ts, which derives plans by this report.
export const fleetWindowSeconds = (fleet: Fleet) => fleet.windowSeconds ?? DAY;
/** "a day", or "a 30-s window" when the window is not a day (said in every figure per window). */
export const perWindow = (seconds: number) => (seconds === DAY ? 'a day' : `a ${seconds}-s window`);
/** The step's health release: its ε a day, the health channel's share of it (step-budget.ts), the noise σ on each count. */
export interface Privacy {
  epsilonPerDay: number;
  healthShare: number;
  noiseSigma: number;
  delta: number;
}
export interface PlanShape {
  steps: RolloutStep[];
  analysis: MetricCheck[];
}

export function armsPerDay(fleetPerDay: number, percent: number) {
  const share = percent / 100;
  return { challenger: fleetPerDay * share, control: fleetPerDay * (percent <= 50 ? share : 1 - share) };
}

export const reachableDays = (step: RolloutStep, rule: PowerRule, window: number) =>
  rule.accumulates ? Math.max(rule.evidenceDays, step.bakeSeconds / window) : rule.evidenceDays;

export const contextOf = (check: MetricCheck, analysis: readonly MetricCheck[], fleet: Fleet): Context => ({
  rate: fleet.rates?.[check.metric] ?? TYPICAL_RATES[check.metric] ?? 0,
  rateMetrics: analysis.filter((c) => isSeMetric(c.metric)).length,
});

/** The variance of the difference at `days` of the step: one release (fixed), or the latest look of the increments by then (sequential). */
function varianceAt(
  check: MetricCheck,
  days: number,
  arms: { challenger: number; control: number },
  sigma: number,
  rule: PowerRule,
  ctx: Context,
): number {
  const [nA, nB] = [days * arms.challenger, days * arms.control];
  if (rule.kind === 'fixed') return differenceVariance(ctx.rate, nA, nB, sigma);
  const thinner = Math.min(nA, nB);
  const looks = looksAt(Math.max(check.minSample, rule.releaseFloor)).filter((n) => n <= thinner * (1 + 1e-12));
  if (looks.length === 0) return differenceVariance(ctx.rate, nA, nB, sigma); // below the first release: what one would show
  const n = looks.at(-1)!;
  return differenceVariance(ctx.rate, (n * nA) / thinner, (n * nB) / thinner, sigma, looks.length);
}

function metricPower(
  check: MetricCheck,
  step: RolloutStep,
  arms: { challenger: number; control: number },
  sigma: number,
  rule: PowerRule,
  ctx: Context,
  window: number,
): MetricPower {
  const days = reachableDays(step, rule, window);
  const t = daysToDecide(check, arms.challenger, arms.control, sigma, rule, ctx);
  const variance = isSeMetric(check.metric) ? varianceAt(check, days, arms, sigma, rule, ctx) : null;
  const finite = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null);
  const canDecide = t <= days * (1 + 1e-12);
  return {
    metric: check.metric,
    tolerance: check.tolerance,
    rate: isSeMetric(check.metric) ? ctx.rate : null,
    standardError: finite(variance === null ? null : Math.sqrt(variance)),
    mde: finite(variance === null ? null : decisionMargin(variance, check.tolerance, rule, ctx.rateMetrics)),
    requiredPerArm: Number.isFinite(t) ? Math.ceil(t * Math.min(arms.challenger, arms.control)) : null,
    secondsToDecision: canDecide ? Math.max(step.bakeSeconds, Math.ceil(t * window)) : null,
    canDecide,
  };
}

/** The power report of a plan (see the module comment); `derived` says which parts were derived from the fleet. */
export function powerReport(
  plan: PlanShape,
  fleet: Fleet,
  privacy: Privacy,
  rule: PowerRule = SEQUENTIAL_RULE,
  derived = { steps: false, analysis: false },
): PowerReport {
  const last = plan.steps.length - 1;
  const window = fleetWindowSeconds(fleet);
  const steps: StepPower[] = plan.steps.map((s, i) => {
    const arms = armsPerDay(fleet.devicesPerDay, s.percent);
    const metrics = plan.analysis.map((c) =>
      metricPower(c, s, arms, privacy.noiseSigma, rule, contextOf(c, plan.analysis, fleet), window),
    );
    const canDecide = metrics.length > 0 && metrics.every((m) => m.canDecide);
    const seconds = canDecide ? Math.max(...metrics.map((m) => m.secondsToDecision!)) : null;
    return {
      step: i,
      percent: s.percent,
      bakeSeconds: s.bakeSeconds,
      devicesPerDay: { challenger: Math.round(arms.challenger), control: Math.round(arms.control) },
      judged: i < last && s.percent < 100,
      metrics,
      canDecide,
      secondsToDecision: seconds,
      bakesToDecision: seconds !== null && s.bakeSeconds > 0 ? Math.ceil(seconds / s.bakeSeconds - 1e-9) : null,
    };
  });
  const judged = steps.filter((s) => s.judged);
  const problems: string[] = [];
  if (fleet.windows === 0)
    problems.push(
      'no fleet data yet: no daily health window of this model, so the plan cannot be assessed; the analysis holds until both arms report',
    );
  else if (fleet.devicesPerDay <= 0)
    problems.push('the fleet has no devices: its recent daily health windows counted none');
  if (judged.length === 0) problems.push('the plan has no step below 100 %: nothing is compared with a control range');
  if (plan.analysis.length === 0) problems.push('the plan judges no metric: nothing can pass');
  for (const s of judged) {
    for (const m of s.metrics.filter((x) => !x.canDecide)) {
      problems.push(
        `step ${s.step + 1} (${s.percent} %, ${s.devicesPerDay.challenger} challenger / ${s.devicesPerDay.control} control devices ${perWindow(window)}): ${m.metric} ${
          m.mde === null
            ? `needs ${m.requiredPerArm ?? '∞'} devices per arm`
            : `can detect only ${m.mde.toFixed(4)} (tolerance ${m.tolerance}; needs ${m.requiredPerArm ?? '∞'} devices per arm)`
        }`,
      );
    }
  }
  const canDecide =
    fleet.devicesPerDay > 0 && fleet.windows > 0 && judged.length > 0 && judged.every((s) => s.canDecide);
  return {
    fleet: {
      devicesPerDay: fleet.devicesPerDay,
      windows: fleet.windows,
      basis: fleet.basis,
      windowSeconds: window,
      ...(fleet.rates ? { rates: fleet.rates } : {}),
    },
    privacy: { epsilonPerDay: privacy.epsilonPerDay, healthShare: privacy.healthShare, noiseSigma: privacy.noiseSigma },
    rule: {
      kind: rule.kind,
      seMultiplier: rule.seMultiplier,
      alpha: rule.alpha,
      power: rule.power,
      zPower: rule.zPower,
      evidenceDays: rule.evidenceDays,
      releaseFloor: rule.releaseFloor,
    },
    steps,
    canDecide,
    status: fleet.windows === 0 ? 'no-fleet-data' : canDecide ? 'decides' : 'cannot-decide',
    problems: canDecide ? [] : problems,
    suggestions: canDecide || fleet.devicesPerDay <= 0 ? [] : suggestions(plan, fleet, privacy, rule, judged),
    derived,
  };
}

/** Concrete changes that would make the failing steps decide: the most demanding figure per kind. */
function suggestions(plan: PlanShape, fleet: Fleet, privacy: Privacy, rule: PowerRule, judged: StepPower[]): string[] {
  const out: string[] = [];
  const tolerances = new Map<string, number>();
  let percent = 0;
  let epsilon = 0;
  const noBudget = new Set<string>();
  let bakeDays = 0;
  let firstRelease = 0;
  const window = fleetWindowSeconds(fleet);
  for (const s of judged) {
    const step = plan.steps[s.step]!;
    const days = reachableDays(step, rule, window);
    const [nA, nB] = [days * s.devicesPerDay.challenger, days * s.devicesPerDay.control];
    for (const m of s.metrics.filter((x) => !x.canDecide)) {
      const check = plan.analysis.find((c) => c.metric === m.metric)!;
      const ctx = contextOf(check, plan.analysis, fleet);
      if (m.mde !== null && m.standardError !== null)
        tolerances.set(
          m.metric,
          Math.max(tolerances.get(m.metric) ?? 0, fitTolerance(check, m.standardError ** 2, rule, ctx)),
        );
      // The smallest share whose arms decide within the reachable days (equal arms up to 50 %).
      const t = daysToDecide(check, 1, 1, privacy.noiseSigma, rule, ctx); // days for arms of one device a day = devices needed per arm
      percent = Math.max(percent, (100 * t) / days / fleet.devicesPerDay);
      if (rule.accumulates)
        bakeDays = Math.max(
          bakeDays,
          daysToDecide(check, s.devicesPerDay.challenger, s.devicesPerDay.control, privacy.noiseSigma, rule, ctx),
        );
      // Sequential: one larger first release may decide where the 1, 4, 16 … schedule from a small minSample cannot.
      const single =
        rule.kind === 'sequential' && nA > 0 && nB > 0
          ? singleReleaseSample(check, nB / nA, privacy.noiseSigma, rule, ctx)
          : Infinity;
      if (single <= Math.min(nA, nB)) firstRelease = Math.max(firstRelease, Math.ceil(single / 100) * 100);
      // k: the margin in SEs at this sample (2 + z for the fixed rule; the sequence's width + z for the sequential).
      const k = m.mde !== null && m.standardError ? m.mde / m.standardError : rule.seMultiplier + rule.zPower;
      if (m.rate !== null && nA > 0 && nB > 0) {
        // The noise σ' that would fit: σ'²(1/nA² + 1/nB²) ≤ (tol/k)² − binomial; ρ grows as (σ/σ')².
        const room = (check.tolerance / k) ** 2 - m.rate * (1 - m.rate) * (1 / nA + 1 / nB);
        if (room <= 0) noBudget.add(m.metric);
        else {
          const sigma = Math.sqrt(room / (1 / nA ** 2 + 1 / nB ** 2));
          epsilon = Math.max(
            epsilon,
            epsilonFor(rhoFor(privacy.epsilonPerDay, privacy.delta) * (privacy.noiseSigma / sigma) ** 2, privacy.delta),
          );
        }
      }
    }
  }
  if (percent > 0) {
    out.push(
      percent <= 50
        ? `fewer, larger steps: a first step of at least ${niceCeil(percent)} % (then larger ones) gives each arm the devices to decide`
        : `no step of 50 % or less decides at ${Math.round(fleet.devicesPerDay)} devices ${perWindow(window)}: larger steps alone cannot fix it`,
    );
  }
  if (firstRelease > 0)
    out.push(`a larger first release: minSample ≥ ${firstRelease} (the step then decides at its first look)`);
  if (tolerances.size > 0) out.push(`looser tolerances: ${[...tolerances].map(([m, t]) => `${m} ≥ ${t}`).join(', ')}`);
  if (noBudget.size > 0)
    out.push(
      `more budget alone cannot fix ${[...noBudget].join(', ')}: the binomial spread alone exceeds the tolerance at this sample`,
    );
  if (epsilon > 0)
    out.push(
      `more budget${noBudget.size > 0 ? ' (for the other metrics)' : ''}: DRIFT_EPSILON_PER_DAY ≥ ${niceCeil(epsilon)} (now ${privacy.epsilonPerDay}), or a plan whose step budget is not shared with sketches`,
    );
  out.push(
    rule.accumulates
      ? `longer bakes: ${window === DAY ? `${Math.ceil(bakeDays * 24)} h` : `${Math.ceil(bakeDays * window)} s`} per step`
      : `a longer bake alone does not help under the fixed rule: one decision rests on at most ${window === DAY ? 'one day' : 'one window'} of devices`,
  );
  return out;
}
