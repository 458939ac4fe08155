/**
 * @module cli/commands/rollout
 * `rollout create|status|list|promote|pause|resume|abort|kill` — staged rollouts from a terminal.
 * `promote` reads the current step first and sends it, so a promote that races another fails
 * instead of advancing twice.
 */
import { Api, type Ctx, emit, readJsonFile, table } from '../context.ts';
import { CliError } from '../errors.ts';

interface View { id: string; model: string; champion: number; challenger: number; state: string; step: number; percent: number; plan: { steps: { percent: number }[] }; decision?: { outcome: string; summary: string } | null }

const api = (c: Ctx) => Api.from(c.io, c.globals);

function show(c: Ctx, v: View): void {
  emit(c, v, () => {
    const steps = v.plan.steps.map((s, i) => (i === v.step && ['running', 'paused'].includes(v.state) ? `[${s.percent}%]` : `${s.percent}%`)).join(' → ');
    return [
      `${v.id}  ${v.model}: v${v.champion} → v${v.challenger}  ${v.state}  ${v.percent}% on the challenger`,
      `steps: ${steps}`,
      ...(v.decision ? [`last decision: ${v.decision.summary}`] : []),
    ];
  });
}

export async function createRollout(c: Ctx, o: { model: string; challenger: string; plan?: string; draft?: boolean; reason?: string }): Promise<void> {
  const challenger = Number(o.challenger);
  if (!Number.isInteger(challenger) || challenger < 1) throw new CliError('usage', 'bad_request', `--challenger must be a version number, got ${o.challenger}`);
  show(c, await api(c).request<View>('POST', `/v1/models/${o.model}/rollouts`, {
    challenger, start: !o.draft, ...(o.plan ? { plan: readJsonFile(c.io, o.plan, '--plan') } : {}), ...(o.reason ? { reason: o.reason } : {}),
  }));
}

export async function rolloutStatus(c: Ctx, id: string): Promise<void> {
  show(c, await api(c).request<View>('GET', `/v1/rollouts/${id}`));
}

export async function listRollouts(c: Ctx, o: { model: string }): Promise<void> {
  const { rollouts } = await api(c).request<{ rollouts: View[] }>('GET', `/v1/models/${o.model}/rollouts`);
  emit(c, rollouts, () => table(rollouts.map((r) => ({ id: r.id, from: `v${r.champion}`, to: `v${r.challenger}`, state: r.state, percent: `${r.percent}%`, decision: r.decision?.outcome ?? '-' }))));
}

export async function rolloutAction(c: Ctx, action: 'promote' | 'pause' | 'resume' | 'abort' | 'kill', id: string, o: { reason?: string }): Promise<void> {
  const step = action === 'promote' ? (await api(c).request<View>('GET', `/v1/rollouts/${id}`)).step : undefined;
  show(c, await api(c).request<View>('POST', `/v1/rollouts/${id}/${action}`, { ...(step === undefined ? {} : { step }), ...(o.reason ? { reason: o.reason } : {}) }));
}

interface PolicyView { model: string; configured: boolean; updatedBy: string | null; policy: { publisherMayStart: boolean; minSteps: number; maxFirstStepPercent: number; minBakeSeconds: number; requiredMetrics: string[]; gate?: { metric: string; margin: number; source: string } } }

/** `rollout policy --model m [--set policy.json]`: what a publisher may start on its own. */
export async function rolloutPolicy(c: Ctx, o: { model: string; set?: string }): Promise<void> {
  const v = o.set
    ? await api(c).request<PolicyView>('PUT', `/v1/models/${o.model}/rollout-policy`, readJsonFile(c.io, o.set, '--set'))
    : await api(c).request<PolicyView>('GET', `/v1/models/${o.model}/rollout-policy`);
  const p = v.policy;
  emit(c, v, () => [
    `${v.model}: ${v.configured ? `policy set by ${v.updatedBy}` : 'no policy set, the defaults apply'}`,
    `publishers may start: ${p.publisherMayStart ? 'yes' : 'no'}; steps ≥ ${p.minSteps}, first ≤ ${p.maxFirstStepPercent} %, bake ≥ ${p.minBakeSeconds} s`,
    `required metrics: ${p.requiredMetrics.join(', ') || '-'}`,
    `gate: ${p.gate ? `${p.gate.metric} +${p.gate.margin} (${p.gate.source === 'server' ? 'computed by the control plane' : 'self-reported'})` : "the plan's own (self-reported)"}`,
  ]);
}
