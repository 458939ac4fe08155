/**
 * @module cli/commands/rollout
 * `rollout create|status|list|promote|pause|resume|abort|kill` — staged rollouts from a terminal.
 * `promote` reads the current step first and sends it, so a promote that races another fails
 * instead of advancing twice.
 */
import type { Command } from 'commander';
import { Api, CliError, type CliIo, type GlobalOptions, readJsonFile, table } from '../context.ts';

interface View { id: string; model: string; champion: number; challenger: number; state: string; step: number; percent: number; plan: { steps: { percent: number }[] }; decision?: { outcome: string; summary: string } | null }

export function registerRollout(program: Command, io: CliIo): void {
  const api = () => Api.from(io, program.opts<GlobalOptions>());
  const json = () => program.opts<GlobalOptions>().json === true;
  const show = (v: View) => {
    if (json()) return io.stdout(JSON.stringify(v, null, 2));
    const steps = v.plan.steps.map((s, i) => (i === v.step && ['running', 'paused'].includes(v.state) ? `[${s.percent}%]` : `${s.percent}%`)).join(' → ');
    io.stdout(`${v.id}  ${v.model}: v${v.champion} → v${v.challenger}  ${v.state}  ${v.percent}% on the challenger`);
    io.stdout(`steps: ${steps}`);
    if (v.decision) io.stdout(`last decision: ${v.decision.summary}`);
  };
  const rollout = program.command('rollout').description('staged rollouts of a challenger version');

  rollout.command('create').requiredOption('--model <name>', 'model name').requiredOption('--challenger <version>', 'version to roll out')
    .option('--plan <file>', 'RolloutPlan JSON (steps, analysis, targeting, salt); default 1 → 5 → 25 → 50 → 100 %')
    .option('--draft', 'create without starting').option('--reason <text>', 'recorded in the audit log')
    .action(async (o: { model: string; challenger: string; plan?: string; draft?: boolean; reason?: string }) => {
      const challenger = Number(o.challenger);
      if (!Number.isInteger(challenger) || challenger < 1) throw new CliError('bad_request', `--challenger must be a version number, got ${o.challenger}`);
      show(await api().request<View>('POST', `/v1/models/${o.model}/rollouts`, {
        challenger, start: !o.draft, ...(o.plan ? { plan: readJsonFile(io, o.plan, '--plan') } : {}), ...(o.reason ? { reason: o.reason } : {}),
      }));
    });

  rollout.command('status <id>').action(async (id: string) => show(await api().request<View>('GET', `/v1/rollouts/${id}`)));

  rollout.command('list').requiredOption('--model <name>', 'model name').action(async (o: { model: string }) => {
    const { rollouts } = await api().request<{ rollouts: View[] }>('GET', `/v1/models/${o.model}/rollouts`);
    if (json()) return io.stdout(JSON.stringify(rollouts, null, 2));
    io.stdout(table(rollouts.map((r) => ({ id: r.id, from: `v${r.champion}`, to: `v${r.challenger}`, state: r.state, percent: `${r.percent}%`, decision: r.decision?.outcome ?? '-' }))));
  });

  for (const action of ['promote', 'pause', 'resume', 'abort', 'kill'] as const) {
    rollout.command(`${action} <id>`).option('--reason <text>', 'recorded in the audit log')
      .description(action === 'kill' ? 'kill switch: the whole fleet returns to the champion now' : `${action} the rollout`)
      .action(async (id: string, o: { reason?: string }) => {
        const step = action === 'promote' ? (await api().request<View>('GET', `/v1/rollouts/${id}`)).step : undefined;
        show(await api().request<View>('POST', `/v1/rollouts/${id}/${action}`, { ...(step === undefined ? {} : { step }), ...(o.reason ? { reason: o.reason } : {}) }));
      });
  }
}
