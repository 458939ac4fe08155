/**
 * docs/rollouts.md's table of fleet-derived default plans ("Plans that can decide"),
 * computed by the production functions: `node --import tsx test/sim/power-table.ts` prints it, and
 * control-plane/src/rollouts/power.test.ts checks that docs/rollouts.md holds exactly this table.
 */
import { DEFAULT_ANALYSIS, healthLayout } from '@modelfleet/protocol';
import {
  DELTA,
  HEALTH_SHARE,
  HEALTH_SPLIT,
  releaseNoiseForRho,
  rhoFor,
} from '../../control-plane/src/drift/privacy.ts';
import { stepPrivacy } from '../../control-plane/src/rollouts/step-budget.ts';
import { deriveDefaults } from '../../control-plane/src/rollouts/plan-defaults.ts';
import { FIXED_RULE, type Privacy, powerReport } from '../../control-plane/src/rollouts/power.ts';

export const TABLE_FLEETS = [1_000, 5_000, 20_000, 100_000, 1_000_000, 10_000_000];

/** The privacy of a step's health release before issue 16: a fixed 10 % health share of the daily ε, every health feature released. */
export async function fixedSharePrivacy(epsilonPerDay = 2): Promise<Privacy> {
  const noiseSigma = releaseNoiseForRho(
    await healthLayout(),
    rhoFor(epsilonPerDay, DELTA) * HEALTH_SHARE,
    HEALTH_SPLIT,
  ).categoricalBins;
  return { epsilonPerDay, healthShare: HEALTH_SHARE, noiseSigma, delta: DELTA };
}

/** The privacy of a step's health release for the default plan now (plan-check.ts privacyOf). */
export const defaultPrivacy = (epsilonPerDay = 2): Promise<Privacy> => stepPrivacy(epsilonPerDay, DEFAULT_ANALYSIS);

const hours = (s: number | null) => (s === null ? '—' : `${(s / 3600).toFixed(1)} h`);
const fmt = (n: number) => n.toLocaleString('en-US');

export async function powerTable(): Promise<string> {
  const [privacy, before] = await Promise.all([defaultPrivacy(), fixedSharePrivacy()]);
  const rows = TABLE_FLEETS.map((devicesPerDay) => {
    const fleet = { devicesPerDay, windows: 7, basis: 'table' };
    const plan = deriveDefaults({}, fleet, privacy);
    const r = powerReport(plan, fleet, privacy);
    const old = deriveDefaults({}, fleet, before, FIXED_RULE);
    const fixed = powerReport(old, fleet, before, FIXED_RULE);
    const tol = (m: string) => plan.analysis.find((c) => c.metric === m)!.tolerance;
    const judged = r.steps.filter((s) => s.judged);
    const total = judged.every((s) => s.secondsToDecision !== null)
      ? judged.reduce((sum, s) => sum + s.secondsToDecision!, 0)
      : null;
    return `| ${fmt(devicesPerDay)} | ${plan.steps.map((s) => s.percent).join(' → ')} % | ${tol('load_failure_rate')} / ${tol('verify_failure_rate')} / ${tol('inference_error_rate')} / ${tol('non_finite_rate')} | ${fmt(plan.analysis[0]!.minSample)} | ${r.canDecide ? 'yes' : '**no**'} | ${hours(r.steps[0]!.secondsToDecision)} | ${hours(total)} | ${fixed.canDecide ? `${old.steps[0]!.percent} % first; ${['load_failure_rate', 'verify_failure_rate', 'inference_error_rate', 'non_finite_rate'].map((m) => old.analysis.find((c) => c.metric === m)!.tolerance).join(' / ')}` : 'does not decide'} |`;
  });
  return [
    '| devices a day | derived steps | tolerances: load / verify / inference / non-finite | minSample | decides | first step decides after | all judged steps | before issue 16 (± 2 SE, health on 10 % of the step ε): derived plan |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await powerTable());
