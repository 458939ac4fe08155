/**
 * @module cli/commands/registry
 * `models create`, `versions list`, `versions show`, `alias set` (tokens and apps: credentials.ts).
 */
import { ModelSummary, VersionList, VersionSummary } from '@modelfleet/protocol';
import { Api, type Ctx, emit, table } from '../context.ts';
import { CliError } from '../errors.ts';

const api = (c: Ctx) => Api.from(c.io, c.globals);

export async function createModel(c: Ctx, name: string, o: { description?: string }): Promise<void> {
  const m = await api(c).request(ModelSummary, 'POST', '/v1/models', {
    name,
    ...(o.description ? { description: o.description } : {}),
  });
  emit(c, m, () => `created model ${m.name}`);
}

export async function listVersions(c: Ctx, o: { model: string }): Promise<void> {
  const { versions } = await api(c).request(VersionList, 'GET', `/v1/models/${o.model}/versions`);
  emit(c, versions, () =>
    table(
      versions.map((v) => ({
        version: v.version,
        status: v.status,
        aliases: v.aliases.join(','),
        format: v.format,
        size: `${(v.totalBytes / 1024).toFixed(1)} KiB`,
        manifest: v.manifestDigest ? v.manifestDigest.slice(0, 12) : '-',
        published: v.publishedAt.slice(0, 19).replace('T', ' '),
        reasons: v.validation.reasons.map((r) => r.code).join(','),
      })),
    ),
  );
}

export async function showVersion(c: Ctx, version: string, o: { model: string }): Promise<void> {
  const v = await api(c).request(
    VersionSummary,
    'GET',
    `/v1/models/${o.model}/versions/${encodeURIComponent(version)}`,
  );
  emit(c, v, () => [
    `${v.model} v${v.version} ${v.status} (${v.format}), manifest ${v.manifestDigest ?? '-'}${v.aliases.length ? `, aliases ${v.aliases.join(', ')}` : ''}`,
    ...v.validation.reasons.map((r) => `  ${r.code}: ${r.message}`),
    table(
      v.validation.checks.map((ch) => ({
        check: ch.name,
        result: ch.ok ? 'ok' : 'failed',
        ms: ch.ms,
        detail: ch.detail ?? '',
      })),
    ),
  ]);
}

export async function setAlias(
  c: Ctx,
  alias: string,
  version: string,
  o: { model: string; reason?: string },
): Promise<void> {
  const v = Number(version);
  if (!Number.isInteger(v) || v < 1)
    throw new CliError('usage', 'bad_request', `version must be a positive integer, got ${version}`);
  const m = await api(c).request(ModelSummary, 'PUT', `/v1/models/${o.model}/aliases/${alias}`, {
    version: v,
    ...(o.reason ? { reason: o.reason } : {}),
  });
  emit(c, m, () => `${o.model}: ${alias} → v${m.aliases[alias]} (ticket sequence ${m.sequence})`);
}
