/**
 * @module cli/commands/rollout
 * `rollout create|status|list|promote|pause|resume|abort|kill` — staged rollouts from a terminal.
 * `promote` reads the current step first and sends it, so a promote that races another fails
 * instead of advancing twice. `create` prints the plan's power on the fleet (and its warnings);
 * `create --dry-run` prints only that, creating nothing.
 */
import {
  type OperatorAction,
  PlanCheckResponse,
  type PowerReport,
  RolloutCreated,
  RolloutDetail,
  RolloutList,
  RolloutPolicyView,
  RolloutView,
  type RolloutWithDecision,
} from '@modelfleet/protocol';
import { Api, type Ctx, emit, readJsonFile, table } from '../context.ts';
import { CliError } from '../errors.ts';

const api = (c: Ctx) => Api.from(c.io, c.globals);

/** A rollout as every command prints it; `decision` only where the route answers one. */
function show(c: Ctx, v: RolloutView & Partial<Pick<RolloutWithDecision, 'decision'>>): void {
  emit(c, v, () => {
    const steps = v.plan.steps
      .map((s, i) => (i === v.step && ['running', 'paused'].includes(v.state) ? `[${s.percent}%]` : `${s.percent}%`))
      .join(' → ');
    return [
      `${v.id}  ${v.model}: v${v.champion} → v${v.challenger}  ${v.state}  ${v.percent}% on the challenger`,
      `steps: ${steps}`,
      ...(v.decision ? [`last decision: ${v.decision.summary}`] : []),
    ];
  });
}

const hours = (s: number | null) =>
  s === null ? 'never' : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.ceil(s / 60)} min`;

/** The power report as lines: per judged step the devices per arm a day, then per metric its MDE and time to decision. */
export function powerLines(p: PowerReport): string[] {
  const head =
    p.status === 'no-fleet-data'
      ? 'power: no fleet data yet (no daily health window): the plan cannot be assessed; the analysis holds until both arms report'
      : `power: ${p.canDecide ? 'the plan can decide' : 'the plan CANNOT decide'} on ${Math.round(p.fleet.devicesPerDay).toLocaleString('en-US')} devices a day (ε ${p.privacy.epsilonPerDay}/day, noise σ ${p.privacy.noiseSigma.toFixed(1)}, observed ± ${p.rule.seMultiplier} SE)`;
  const steps =
    p.status === 'no-fleet-data'
      ? []
      : p.steps
          .filter((s) => s.judged)
          .flatMap((s) => [
            `  step ${s.step + 1} (${s.percent} %): ${s.devicesPerDay.challenger.toLocaleString('en-US')} challenger / ${s.devicesPerDay.control.toLocaleString('en-US')} control devices a day, decides after ${hours(s.secondsToDecision)}`,
            ...s.metrics.map(
              (m) =>
                `    ${m.metric}: tolerance ${m.tolerance}, MDE ${m.mde === null ? '-' : m.mde.toFixed(4)}, needs ${m.requiredPerArm?.toLocaleString('en-US') ?? '∞'} per arm${m.canDecide ? '' : '  (cannot decide)'}`,
            ),
          ]);
  return [head, ...steps, ...p.suggestions.map((x) => `  to decide: ${x}`)];
}

export async function createRollout(
  c: Ctx,
  o: { model: string; challenger: string; plan?: string; draft?: boolean; reason?: string; dryRun?: boolean },
): Promise<void> {
  const challenger = Number(o.challenger);
  if (!Number.isInteger(challenger) || challenger < 1)
    throw new CliError('usage', 'bad_request', `--challenger must be a version number, got ${o.challenger}`);
  const plan = o.plan ? { plan: readJsonFile(c.io, o.plan, '--plan') } : {};
  if (o.dryRun) {
    const r = await api(c).request(PlanCheckResponse, 'POST', `/v1/models/${o.model}/rollouts/preview`, plan);
    emit(c, r, () => [
      `dry run, nothing created: creating it would be ${r.outcome} for your role`,
      `steps: ${r.plan.steps.map((s) => `${s.percent}%`).join(' → ')}${r.power.derived.steps ? ' (derived from the fleet)' : ''}`,
      ...powerLines(r.power),
      ...r.policyViolations.map((v) => `policy: ${v}`),
    ]);
    return;
  }
  const v = await api(c).request(RolloutCreated, 'POST', `/v1/models/${o.model}/rollouts`, {
    challenger,
    start: !o.draft,
    ...plan,
    ...(o.reason ? { reason: o.reason } : {}),
  });
  show(c, v);
  if (!c.globals.json) {
    for (const line of powerLines(v.power)) c.io.stdout(line);
    for (const w of v.warnings) c.io.stderr(`warning: ${w}`);
  }
}

export async function rolloutStatus(c: Ctx, id: string): Promise<void> {
  show(c, await api(c).request(RolloutDetail, 'GET', `/v1/rollouts/${id}`));
}

export async function listRollouts(c: Ctx, o: { model: string }): Promise<void> {
  const { rollouts } = await api(c).request(RolloutList, 'GET', `/v1/models/${o.model}/rollouts`);
  emit(c, rollouts, () =>
    table(
      rollouts.map((r) => ({
        id: r.id,
        from: `v${r.champion}`,
        to: `v${r.challenger}`,
        state: r.state,
        percent: `${r.percent}%`,
        decision: r.decision?.outcome ?? '-',
      })),
    ),
  );
}

export async function rolloutAction(c: Ctx, action: OperatorAction, id: string, o: { reason?: string }): Promise<void> {
  const step =
    action === 'promote' ? (await api(c).request(RolloutDetail, 'GET', `/v1/rollouts/${id}`)).step : undefined;
  show(
    c,
    await api(c).request(RolloutView, 'POST', `/v1/rollouts/${id}/${action}`, {
      ...(step === undefined ? {} : { step }),
      ...(o.reason ? { reason: o.reason } : {}),
    }),
  );
}

/** `rollout policy --model m [--set policy.json]`: what a publisher may start on its own. */
export async function rolloutPolicy(c: Ctx, o: { model: string; set?: string }): Promise<void> {
  const v = o.set
    ? await api(c).request(
        RolloutPolicyView,
        'PUT',
        `/v1/models/${o.model}/rollout-policy`,
        readJsonFile(c.io, o.set, '--set'),
      )
    : await api(c).request(RolloutPolicyView, 'GET', `/v1/models/${o.model}/rollout-policy`);
  const p = v.policy;
  emit(c, v, () => [
    `${v.model}: ${v.configured ? `policy set by ${v.updatedBy}` : 'no policy set, the defaults apply'}`,
    `publishers may start: ${p.publisherMayStart ? 'yes' : 'no'}; steps ≥ ${p.minSteps}, first ≤ ${p.maxFirstStepPercent} %, bake ≥ ${p.minBakeSeconds} s`,
    `required metrics: ${p.requiredMetrics.join(', ') || '-'}`,
    `gate: ${p.gate ? `${p.gate.metric} +${p.gate.margin} (${p.gate.source === 'server' ? 'computed by the control plane' : 'self-reported'})` : "the plan's own (self-reported)"}`,
  ]);
}
