/**
 * @module rollouts/power
 * Power analysis of a rollout plan before it starts (pure; no I/O, so tests, the README table and
 * the simulator use the production figures). For each step: the devices each arm sees per day
 * (the model's daily fleet × the step's share), and per metric the standard error of the
 * challenger − control difference at one decision's sample — binomial spread at the metric's
 * typical rate plus the DP noise of the health release, exactly judge.ts's variance — the minimum
 * detectable effect, and when both arms hold the sample that decides.
 *
 * The decision rule is a parameter (`PowerRule`): today's judge passes when observed + 2 SE ≤
 * tolerance and rests on one release (at most one day's devices). A metric can decide when a
 * harmless challenger passes with the stated power: (k + z_power) · SE ≤ tolerance. The sequential
 * rule replacing it changes k and lets evidence accumulate over the step (`accumulates`).
 *
 * Model of arrivals: the fleet's daily devices report uniformly over the day, so an arm holding
 * d devices a day holds t·d after t days (t ≤ 1 under today's rule).
 */
import { DEFAULT_ANALYSIS, DEFAULT_STEPS, type MetricCheck, type MetricPower, type PowerReport, type RolloutStep, type StepPower } from '@modelfleet/protocol';
import { epsilonFor, rhoFor } from '../drift/privacy.ts';

export const DAY = 86_400;
type Metric = MetricCheck['metric'];

export interface PowerRule {
  /** k in observed ± k·SE. */
  seMultiplier: number;
  /** Power a harmless challenger must pass with, and its normal quantile. */
  power: number; zPower: number;
  /** Days of devices one decision may rest on. */
  evidenceDays: number;
  /** Evidence accumulates over the whole step (a sequential rule): a step's bake counts as evidence days too. */
  accumulates: boolean;
  /** Devices per arm before any release (DRIFT_MIN_DEVICES). */
  releaseFloor: number;
}

/** The rule judge.ts applies today: observed ± 2 SE on one release. */
export const CURRENT_RULE: PowerRule = { seMultiplier: 2, power: 0.8, zPower: 0.8416, evidenceDays: 1, accumulates: false, releaseFloor: 1000 };

/** Typical device-level rates the binomial spread is computed at (DP noise dominates at these sizes). */
export const TYPICAL_RATES: Partial<Record<Metric, number>> = {
  load_failure_rate: 0.01, verify_failure_rate: 0.001, inference_error_rate: 0.01, non_finite_rate: 0.001, label_accuracy: 0.9,
};
/** Metrics judged by observed ± k·SE; the rest (latency, output verdicts) compare without one and need only their sample. */
export const isSeMetric = (m: Metric) => TYPICAL_RATES[m] !== undefined;

export interface Fleet { devicesPerDay: number; windows: number; basis: string }
export interface Privacy { epsilonPerDay: number; healthShare: number; noiseSigma: number; delta: number }
export interface PlanShape { steps: RolloutStep[]; analysis: MetricCheck[] }

export function armsPerDay(fleetPerDay: number, percent: number) {
  const share = percent / 100;
  return { challenger: fleetPerDay * share, control: fleetPerDay * (percent <= 50 ? share : 1 - share) };
}

/** SE of the difference of two device shares, each with noise σ on its count (judge.ts's variance). */
export function differenceSE(rate: number, nA: number, nB: number, sigma: number): number {
  if (nA <= 0 || nB <= 0) return Infinity;
  const v = (n: number) => (rate * (1 - rate)) / n + (sigma / n) ** 2;
  return Math.sqrt(v(nA) + v(nB));
}

const reachableDays = (step: RolloutStep, rule: PowerRule) => (rule.accumulates ? Math.max(rule.evidenceDays, step.bakeSeconds / DAY) : rule.evidenceDays);

/**
 * Days until both arms (dA, dB devices a day) hold a deciding sample: (k + z)·SE(t·dA, t·dB) ≤ tol,
 * i.e. a t² − b t − c ≥ 0 with a = (tol/(k+z))², b the binomial and c the noise terms; and at
 * least minSample and the release floor in the thinner arm. Infinity when never.
 */
export function daysToDecide(check: MetricCheck, dA: number, dB: number, sigma: number, rule: PowerRule): number {
  if (!(dA > 0 && dB > 0)) return Infinity;
  const sampleDays = Math.max(check.minSample, rule.releaseFloor) / Math.min(dA, dB);
  if (!isSeMetric(check.metric)) return sampleDays;
  if (!(check.tolerance > 0)) return Infinity; // every measurement has noise: a zero tolerance can never pass
  const rate = TYPICAL_RATES[check.metric]!;
  const a = (check.tolerance / (rule.seMultiplier + rule.zPower)) ** 2;
  const b = rate * (1 - rate) * (1 / dA + 1 / dB);
  const c = sigma ** 2 * (1 / dA ** 2 + 1 / dB ** 2);
  return Math.max(sampleDays, (b + Math.sqrt(b * b + 4 * a * c)) / (2 * a));
}

function metricPower(check: MetricCheck, step: RolloutStep, arms: { challenger: number; control: number }, sigma: number, rule: PowerRule): MetricPower {
  const days = reachableDays(step, rule);
  const t = daysToDecide(check, arms.challenger, arms.control, sigma, rule);
  const se = isSeMetric(check.metric) ? differenceSE(TYPICAL_RATES[check.metric]!, days * arms.challenger, days * arms.control, sigma) : null;
  const finite = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null);
  const canDecide = t <= days * (1 + 1e-12);
  return {
    metric: check.metric, tolerance: check.tolerance, rate: TYPICAL_RATES[check.metric] ?? null,
    standardError: finite(se), mde: finite(se === null ? null : (rule.seMultiplier + rule.zPower) * se),
    requiredPerArm: Number.isFinite(t) ? Math.ceil(t * Math.min(arms.challenger, arms.control)) : null,
    secondsToDecision: canDecide ? Math.max(step.bakeSeconds, Math.ceil(t * DAY)) : null,
    canDecide,
  };
}

/** Ceiling to two significant digits (tolerances and percentages people can read). */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return x;
  const scale = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Number((Math.ceil(x / scale - 1e-9) * scale).toPrecision(2));
}

/** The power report of a plan (see the module comment); `derived` says which parts were derived from the fleet. */
export function powerReport(plan: PlanShape, fleet: Fleet, privacy: Privacy, rule: PowerRule = CURRENT_RULE, derived = { steps: false, analysis: false }): PowerReport {
  const last = plan.steps.length - 1;
  const steps: StepPower[] = plan.steps.map((s, i) => {
    const arms = armsPerDay(fleet.devicesPerDay, s.percent);
    const metrics = plan.analysis.map((c) => metricPower(c, s, arms, privacy.noiseSigma, rule));
    const canDecide = metrics.length > 0 && metrics.every((m) => m.canDecide);
    const seconds = canDecide ? Math.max(...metrics.map((m) => m.secondsToDecision!)) : null;
    return {
      step: i, percent: s.percent, bakeSeconds: s.bakeSeconds, devicesPerDay: { challenger: Math.round(arms.challenger), control: Math.round(arms.control) },
      judged: i < last && s.percent < 100, metrics, canDecide, secondsToDecision: seconds,
      bakesToDecision: seconds !== null && s.bakeSeconds > 0 ? Math.ceil(seconds / s.bakeSeconds - 1e-9) : null,
    };
  });
  const judged = steps.filter((s) => s.judged);
  const problems: string[] = [];
  if (fleet.windows === 0) problems.push('no fleet data yet: no daily health window of this model, so the plan cannot be assessed; the analysis holds until both arms report');
  else if (fleet.devicesPerDay <= 0) problems.push('the fleet has no devices: its recent daily health windows counted none');
  if (judged.length === 0) problems.push('the plan has no step below 100 %: nothing is compared with a control range');
  if (plan.analysis.length === 0) problems.push('the plan judges no metric: nothing can pass');
  for (const s of judged) {
    for (const m of s.metrics.filter((x) => !x.canDecide)) {
      problems.push(`step ${s.step + 1} (${s.percent} %, ${s.devicesPerDay.challenger} challenger / ${s.devicesPerDay.control} control devices a day): ${m.metric} ${m.mde === null
        ? `needs ${m.requiredPerArm ?? '∞'} devices per arm`
        : `can detect only ${m.mde.toFixed(4)} (tolerance ${m.tolerance}; needs ${m.requiredPerArm ?? '∞'} devices per arm)`}`);
    }
  }
  const canDecide = fleet.devicesPerDay > 0 && fleet.windows > 0 && judged.length > 0 && judged.every((s) => s.canDecide);
  return {
    fleet: { devicesPerDay: fleet.devicesPerDay, windows: fleet.windows, basis: fleet.basis },
    privacy: { epsilonPerDay: privacy.epsilonPerDay, healthShare: privacy.healthShare, noiseSigma: privacy.noiseSigma },
    rule: { seMultiplier: rule.seMultiplier, power: rule.power, zPower: rule.zPower, evidenceDays: rule.evidenceDays, releaseFloor: rule.releaseFloor },
    steps, canDecide, status: fleet.windows === 0 ? 'no-fleet-data' : canDecide ? 'decides' : 'cannot-decide',
    problems: canDecide ? [] : problems,
    suggestions: canDecide || fleet.devicesPerDay <= 0 ? [] : suggestions(plan, fleet, privacy, rule, judged),
    derived,
  };
}

/** Concrete changes that would make the failing steps decide: the most demanding figure per kind. */
function suggestions(plan: PlanShape, fleet: Fleet, privacy: Privacy, rule: PowerRule, judged: StepPower[]): string[] {
  const out: string[] = [];
  const k = rule.seMultiplier + rule.zPower;
  const tolerances = new Map<string, number>();
  let percent = 0;
  let epsilon = 0;
  const noBudget = new Set<string>();
  let bakeDays = 0;
  for (const s of judged) {
    const step = plan.steps[s.step]!;
    const days = reachableDays(step, rule);
    const [nA, nB] = [days * s.devicesPerDay.challenger, days * s.devicesPerDay.control];
    for (const m of s.metrics.filter((x) => !x.canDecide)) {
      const check = plan.analysis.find((c) => c.metric === m.metric)!;
      if (m.mde !== null) tolerances.set(m.metric, Math.max(tolerances.get(m.metric) ?? 0, niceCeil(m.mde)));
      // The smallest share whose arms decide within the reachable days (equal arms up to 50 %).
      const t = daysToDecide(check, 1, 1, privacy.noiseSigma, rule); // days for arms of one device a day = devices needed per arm
      percent = Math.max(percent, (100 * t) / days / fleet.devicesPerDay);
      if (rule.accumulates) bakeDays = Math.max(bakeDays, daysToDecide(check, s.devicesPerDay.challenger, s.devicesPerDay.control, privacy.noiseSigma, rule));
      if (m.rate !== null && nA > 0 && nB > 0) {
        // The noise σ' that would fit: σ'²(1/nA² + 1/nB²) ≤ (tol/k)² − binomial; ρ grows as (σ/σ')².
        const room = (check.tolerance / k) ** 2 - m.rate * (1 - m.rate) * (1 / nA + 1 / nB);
        if (room <= 0) noBudget.add(m.metric);
        else {
          const sigma = Math.sqrt(room / (1 / nA ** 2 + 1 / nB ** 2));
          epsilon = Math.max(epsilon, epsilonFor(rhoFor(privacy.epsilonPerDay, privacy.delta) * (privacy.noiseSigma / sigma) ** 2, privacy.delta));
        }
      }
    }
  }
  if (percent > 0) {
    out.push(percent <= 50
      ? `fewer, larger steps: a first step of at least ${niceCeil(percent)} % (then larger ones) gives each arm the devices to decide`
      : `no step of 50 % or less decides at ${Math.round(fleet.devicesPerDay)} devices a day: larger steps alone cannot fix it`);
  }
  if (tolerances.size > 0) out.push(`looser tolerances: ${[...tolerances].map(([m, t]) => `${m} ≥ ${t}`).join(', ')}`);
  if (noBudget.size > 0) out.push(`more budget alone cannot fix ${[...noBudget].join(', ')}: the binomial spread alone exceeds the tolerance at this sample`);
  if (epsilon > 0) out.push(`more budget${noBudget.size > 0 ? ' (for the other metrics)' : ''}: DRIFT_EPSILON_PER_DAY ≥ ${niceCeil(epsilon)} (now ${privacy.epsilonPerDay}), or a larger health share of it`);
  out.push(rule.accumulates
    ? `longer bakes: ${Math.ceil(bakeDays * 24)} h per step`
    : 'a longer bake alone does not help under the current rule: one decision rests on at most one day of devices');
  return out;
}

/** Default ladder of first steps, smallest first; each continues towards 100 % in larger steps. */
const FIRST_STEPS = [1, 2, 5, 10, 25, 50];
const stepsFrom = (first: number, bakeSeconds = 3600): RolloutStep[] =>
  [first, ...[5, 10, 25, 50].filter((p) => p >= 2 * first && (first >= 5 || p !== 10)), 100].map((percent) => ({ percent, bakeSeconds }));

/** The loosest tolerance a derived default may have: beyond it the fleet is too small for an automatic plan. */
export const MAX_DERIVED_TOLERANCE = 0.05;

/**
 * Steps and tolerances that fit the fleet, for whatever the plan left out: the smallest first step
 * (within `maxFirstPercent`, the policy's) at which the default metrics decide; failing that, the
 * largest allowed first step with each tolerance loosened to its MDE there (never tighter than
 * DEFAULT_ANALYSIS, at most MAX_DERIVED_TOLERANCE). minSample is raised to the deciding sample
 * so the step's release waits for it. Bakes are an hour, or the policy's minimum if longer. No
 * fleet data: the fixed defaults (the report says so).
 */
export function deriveDefaults(given: Partial<PlanShape>, fleet: Fleet, privacy: Privacy, rule: PowerRule = CURRENT_RULE, maxFirstPercent = 10, bakeSeconds = 3600): PlanShape {
  if (fleet.windows === 0 || fleet.devicesPerDay <= 0) return { steps: given.steps ?? DEFAULT_STEPS, analysis: given.analysis ?? DEFAULT_ANALYSIS };
  const firsts = FIRST_STEPS.filter((p) => p <= maxFirstPercent);
  const ladder = given.steps ? [given.steps] : (firsts.length ? firsts : [maxFirstPercent]).map((p) => stepsFrom(p, bakeSeconds));
  // One minSample for every metric: the step's release waits for the smallest one, and a release
  // below another metric's minSample would leave that metric without data for the whole step.
  const withSamples = (steps: RolloutStep[], analysis: MetricCheck[]): MetricCheck[] => {
    const arms = armsPerDay(fleet.devicesPerDay, steps[0]!.percent);
    const thinner = Math.min(arms.challenger, arms.control);
    const needs = analysis.map((c) => daysToDecide(c, arms.challenger, arms.control, privacy.noiseSigma, rule) * thinner).filter(Number.isFinite);
    const need = Math.min(Math.ceil(Math.max(0, ...needs) / 100) * 100, Math.floor(reachableDays(steps[0]!, rule) * thinner));
    return analysis.map((c) => ({ ...c, minSample: Math.max(c.minSample, need) }));
  };
  if (given.analysis) {
    const fit = ladder.find((steps) => powerReport({ steps, analysis: given.analysis! }, fleet, privacy, rule).canDecide);
    return { steps: fit ?? ladder[ladder.length - 1]!, analysis: given.analysis };
  }
  for (const steps of ladder) {
    if (powerReport({ steps, analysis: DEFAULT_ANALYSIS }, fleet, privacy, rule).canDecide) return { steps, analysis: withSamples(steps, DEFAULT_ANALYSIS) };
  }
  // No step within the policy decides at the default tolerances: loosen them to what the largest first step can resolve.
  const steps = ladder[ladder.length - 1]!;
  const report = powerReport({ steps, analysis: DEFAULT_ANALYSIS }, fleet, privacy, rule);
  const first = report.steps[0]!;
  const analysis = DEFAULT_ANALYSIS.map((c) => {
    const m = first.metrics.find((x) => x.metric === c.metric)!;
    return m.canDecide || m.mde === null ? c : { ...c, tolerance: Math.min(MAX_DERIVED_TOLERANCE, Math.max(c.tolerance, niceCeil(m.mde))) };
  });
  return { steps, analysis: withSamples(steps, analysis) };
}
