/**
 * @module cli/commands/registry
 * `models create`, `versions list`, `versions show`, `alias set`, `tokens create`, `apps create`.
 */
import type { ModelSummary, VersionSummary } from '@modelfleet/protocol';
import type { Command } from 'commander';
import { Api, CliError, type CliIo, type GlobalOptions, table } from '../context.ts';

export function registerRegistry(program: Command, io: CliIo): void {
  const api = () => Api.from(io, program.opts<GlobalOptions>());
  const json = () => program.opts<GlobalOptions>().json === true;

  program.command('models').description('models').command('create <name>').option('--description <text>', 'what the model does')
    .action(async (name: string, o: { description?: string }) => {
      const m = await api().request<ModelSummary>('POST', '/v1/models', { name, ...(o.description ? { description: o.description } : {}) });
      io.stdout(json() ? JSON.stringify(m, null, 2) : `created model ${m.name}`);
    });

  const versions = program.command('versions').description('model versions');
  versions.command('list').requiredOption('--model <name>', 'model name')
    .action(async (o: { model: string }) => {
      const { versions } = await api().request<{ versions: VersionSummary[] }>('GET', `/v1/models/${o.model}/versions`);
      if (json()) return io.stdout(JSON.stringify(versions, null, 2));
      io.stdout(table(versions.map((v) => ({
        version: v.version, status: v.status, aliases: v.aliases.join(','), format: v.format, size: `${(v.totalBytes / 1024).toFixed(1)} KiB`,
        manifest: v.manifestDigest ? v.manifestDigest.slice(0, 12) : '-', published: v.publishedAt.slice(0, 19).replace('T', ' '),
        reasons: v.validation.reasons.map((r) => r.code).join(','),
      }))));
    });

  versions.command('show <version>').description('one version: status, manifest and what validation ran').requiredOption('--model <name>', 'model name')
    .action(async (version: string, o: { model: string }) => {
      const v = await api().request<VersionSummary>('GET', `/v1/models/${o.model}/versions/${encodeURIComponent(version)}`);
      if (json()) return io.stdout(JSON.stringify(v, null, 2));
      io.stdout(`${v.model} v${v.version} ${v.status} (${v.format}), manifest ${v.manifestDigest ?? '-'}${v.aliases.length ? `, aliases ${v.aliases.join(', ')}` : ''}`);
      for (const r of v.validation.reasons) io.stdout(`  ${r.code}: ${r.message}`);
      io.stdout(table(v.validation.checks.map((c) => ({ check: c.name, result: c.ok ? 'ok' : 'failed', ms: c.ms, detail: c.detail ?? '' }))));
    });

  program.command('alias').description('aliases (champion, challenger, …)').command('set <alias> <version>').requiredOption('--model <name>', 'model name')
    .option('--reason <text>', 'recorded in the audit log')
    .action(async (alias: string, version: string, o: { model: string; reason?: string }) => {
      const v = Number(version);
      if (!Number.isInteger(v) || v < 1) throw new CliError('bad_request', `version must be a positive integer, got ${version}`);
      const m = await api().request<ModelSummary>('PUT', `/v1/models/${o.model}/aliases/${alias}`, { version: v, ...(o.reason ? { reason: o.reason } : {}) });
      io.stdout(json() ? JSON.stringify(m, null, 2) : `${o.model}: ${alias} → v${m.aliases[alias]} (ticket sequence ${m.sequence})`);
    });

  program.command('tokens').description('operator tokens').command('create').requiredOption('--role <role>', 'viewer | publisher | operator | admin')
    .option('--label <label>', 'who or what uses it').option('--expires-in <seconds>', 'lifetime in seconds')
    .action(async (o: { role: string; label?: string; expiresIn?: string }) => {
      const t = await api().request<{ id: string; token: string; role: string; expiresAt: string | null }>('POST', '/v1/tokens', {
        role: o.role, ...(o.label ? { label: o.label } : {}), ...(o.expiresIn ? { expiresInSeconds: Number(o.expiresIn) } : {}),
      });
      io.stdout(json() ? JSON.stringify(t, null, 2) : `${t.token}\n(${t.role}, id ${t.id}${t.expiresAt ? `, expires ${t.expiresAt}` : ''}; shown once)`);
    });

  program.command('apps').description('device apps').command('create').requiredOption('--name <name>', 'app name')
    .option('--models <list>', 'comma-separated model names, or *', '*')
    .action(async (o: { name: string; models: string }) => {
      const a = await api().request<{ id: string; appKey: string; models: string[] }>('POST', '/v1/apps', { name: o.name, models: o.models.split(',').map((m) => m.trim()) });
      io.stdout(json() ? JSON.stringify(a, null, 2) : `${a.appKey}\n(app ${a.id}, models ${a.models.join(', ')}; public: ship it in the app)`);
    });
}
