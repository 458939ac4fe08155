/**
 * @module rollouts/plan-defaults
 * Plans derived from the fleet: the steps and tolerances a rollout gets for whatever its plan left
 * out, chosen by the power report (power.ts) so that the plan can decide on the model's fleet.
 */
import { DEFAULT_ANALYSIS, DEFAULT_STEPS, type MetricCheck, type RolloutStep } from '@modelfleet/protocol';
import { type PowerRule, SEQUENTIAL_RULE, daysToDecide, singleReleaseSample } from './deciding.ts';
import {
  type Fleet,
  type PlanShape,
  type Privacy,
  armsPerDay,
  contextOf,
  powerReport,
  reachableDays,
  fleetWindowSeconds,
} from './power.ts';
import { fitTolerance } from './tolerance.ts';

/** Default ladder of first steps, smallest first; each continues towards 100 % in larger steps. */
const FIRST_STEPS = [1, 2, 5, 10, 25, 50];
const stepsFrom = (first: number, bakeSeconds = 3600): RolloutStep[] =>
  [first, ...[5, 10, 25, 50].filter((p) => p >= 2 * first && (first >= 5 || p !== 10)), 100].map((percent) => ({
    percent,
    bakeSeconds,
  }));

/** The loosest tolerance a derived default may have: beyond it the fleet is too small for an automatic plan. */
export const MAX_DERIVED_TOLERANCE = 0.05;

/**
 * Steps and tolerances that fit the fleet, for whatever the plan left out: the smallest first step
 * (within `maxFirstPercent`, the policy's) at which the default metrics decide; failing that, the
 * largest allowed first step with each tolerance loosened to what it can resolve there (never
 * tighter than DEFAULT_ANALYSIS, at most MAX_DERIVED_TOLERANCE). minSample is raised to the
 * sample at which one release decides, so the step's first look can decide (each further
 * increment adds its own noise). Bakes are an hour, or the policy's minimum if longer. No fleet
 * data: the fixed defaults (the report says so). Tolerances come from the fleet's observed rates
 * (Fleet.rates) where the champion's health window gives them.
 */
export function deriveDefaults(
  given: Partial<PlanShape>,
  fleet: Fleet,
  privacy: Privacy,
  rule: PowerRule = SEQUENTIAL_RULE,
  maxFirstPercent = 10,
  bakeSeconds = 3600,
): PlanShape {
  if (fleet.windows === 0 || fleet.devicesPerDay <= 0)
    return { steps: given.steps ?? DEFAULT_STEPS, analysis: given.analysis ?? DEFAULT_ANALYSIS };
  const firsts = FIRST_STEPS.filter((p) => p <= maxFirstPercent);
  const ladder = given.steps
    ? [given.steps]
    : (firsts.length ? firsts : [maxFirstPercent]).map((p) => stepsFrom(p, bakeSeconds));
  const withSamples = (steps: RolloutStep[], analysis: MetricCheck[]) =>
    withFirstReleaseSample(steps, analysis, fleet, privacy, rule);
  const decides = (steps: RolloutStep[], analysis: MetricCheck[]) =>
    powerReport({ steps, analysis }, fleet, privacy, rule).canDecide;
  if (given.analysis) {
    const fit = ladder.find((steps) => decides(steps, given.analysis!));
    return { steps: fit ?? ladder[ladder.length - 1]!, analysis: given.analysis };
  }
  for (const steps of ladder) {
    const analysis = withSamples(steps, DEFAULT_ANALYSIS);
    if (decides(steps, analysis)) return { steps, analysis };
  }
  // No step within the policy decides at the default tolerances: loosen them to what the largest
  // first step resolves with one release of all its reachable devices.
  const steps = ladder[ladder.length - 1]!;
  const report = powerReport({ steps, analysis: withSamples(steps, DEFAULT_ANALYSIS) }, fleet, privacy, rule);
  const first = report.steps[0]!;
  const analysis = DEFAULT_ANALYSIS.map((c) => {
    const m = first.metrics.find((x) => x.metric === c.metric)!;
    if (m.canDecide || m.standardError === null) return c;
    const fitted = fitTolerance(c, m.standardError ** 2, rule, contextOf(c, DEFAULT_ANALYSIS, fleet));
    return { ...c, tolerance: Math.min(MAX_DERIVED_TOLERANCE, Math.max(c.tolerance, fitted)) };
  });
  return { steps, analysis: withSamples(steps, analysis) };
}

/**
 * The analysis with one minSample for every metric, raised to the sample at which one release of
 * the first step decides (within what the step can reach). One for all: the step's release waits
 * for the smallest one, and a release below another metric's minSample would leave that metric
 * without data for the whole step.
 */
function withFirstReleaseSample(
  steps: RolloutStep[],
  analysis: MetricCheck[],
  fleet: Fleet,
  privacy: Privacy,
  rule: PowerRule,
): MetricCheck[] {
  const arms = armsPerDay(fleet.devicesPerDay, steps[0]!.percent);
  const thinner = Math.min(arms.challenger, arms.control);
  const needs = analysis
    .map((c) =>
      rule.kind === 'sequential'
        ? singleReleaseSample(
            c,
            arms.control / arms.challenger,
            privacy.noiseSigma,
            rule,
            contextOf(c, analysis, fleet),
          )
        : daysToDecide(c, arms.challenger, arms.control, privacy.noiseSigma, rule, contextOf(c, analysis, fleet)) *
          thinner,
    )
    .filter(Number.isFinite);
  const need = Math.min(
    Math.ceil(Math.max(0, ...needs) / 100) * 100,
    Math.floor(reachableDays(steps[0]!, rule, fleetWindowSeconds(fleet)) * thinner),
  );
  return analysis.map((c) => ({ ...c, minSample: Math.max(c.minSample, need) }));
}
