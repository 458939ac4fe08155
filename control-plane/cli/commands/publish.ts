/**
 * @module cli/commands/publish
 * `publish <dir>`: stage the upload, send only the chunks the registry lacks (4 at a time,
 * retried with backoff), commit, and report what validation said.
 */
import type { UploadRequest, UploadResponse, VersionSummary } from '@modelfleet/protocol';
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { Api, CliError, type CliIo, type GlobalOptions, readJsonFile } from '../context.ts';
import { readModelDir } from './model-dir.ts';
import { progress } from './progress.ts';
import { checkUploadSize, oversizeError } from './upload-size.ts';

type Check = VersionSummary['validation']['checks'][number];

const PARALLEL = 4;
const RETRIES = 3;

interface PublishOptions {
  model: string; metrics?: string; params?: string; golden?: string; baseline?: string; io?: string; lineage?: string;
  label?: string; alias?: string; create?: boolean;
}

async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      // API refusals (bad digest, auth) will not change on retry; transport failures might.
      if (i + 1 >= RETRIES || (e instanceof CliError && e.code !== 'unreachable' && !e.code.startsWith('http_5'))) throw e;
      await new Promise((r) => setTimeout(r, 250 * 2 ** i));
    }
  }
}

export async function publishDir(io: CliIo, api: Api, dir: string, o: PublishOptions) {
  const model = readModelDir(resolve(io.cwd, dir));
  const meta: Partial<UploadRequest> = {};
  if (o.metrics) meta.metrics = readJsonFile(io, o.metrics, '--metrics') as UploadRequest['metrics'];
  if (o.params) meta.params = readJsonFile(io, o.params, '--params') as UploadRequest['params'];
  if (o.golden) meta.golden = readJsonFile(io, o.golden, '--golden') as UploadRequest['golden'];
  if (o.baseline) meta.baseline = readJsonFile(io, o.baseline, '--baseline') as UploadRequest['baseline'];
  if (o.io) meta.io = readJsonFile(io, o.io, '--io') as UploadRequest['io'];
  if (o.lineage) meta.lineage = readJsonFile(io, o.lineage, '--lineage') as UploadRequest['lineage'];
  if (o.label) meta.label = o.label;

  const body: UploadRequest = { format: model.format, modelJson: model.modelJson, chunks: model.chunks.map(({ digest, size }) => ({ digest, size })), ...meta };
  const parts = { modelJson: join(dir, 'model.json'), ...(o.golden ? { golden: `--golden ${o.golden}` } : {}), ...(o.baseline ? { baseline: `--baseline ${o.baseline}` } : {}) };
  checkUploadSize(body, parts); // before --create: a refused publish changes nothing

  if (o.create) {
    await api.request('POST', '/v1/models', { name: o.model }).catch((e) => {
      if (!(e instanceof CliError && e.code === 'model_exists')) throw e;
    });
  }
  const staged = await api.request<UploadResponse>('POST', `/v1/models/${o.model}/uploads`, body).catch((e: unknown) => {
    if (!(e instanceof CliError)) throw e;
    if (e.code === 'unknown_model') {
      throw new CliError(e.code, `there is no model ${o.model} at ${api.endpoint}: pass --create to create it with this publish, or run \`modelfleet models create ${o.model}\` first`);
    }
    // A server with a smaller limit than ours (or the weights' MAX_MODEL_BYTES, which has no `limit`).
    const limit = (e.details as { limit?: unknown } | undefined)?.limit;
    if (e.code === 'payload_too_large' && typeof limit === 'number') throw oversizeError(body, parts, limit);
    throw e;
  });

  const missing = new Set(staged.missing);
  const todo = model.chunks.filter((c) => missing.delete(c.digest));
  const bytes = todo.reduce((n, c) => n + c.size, 0);
  const bar = progress(io, bytes, `uploading ${o.model}`);
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, todo.length) }, async () => {
        while (next < todo.length) {
          const chunk = todo[next++]!;
          await withRetry(() => api.request('PUT', `/v1/uploads/${staged.uploadId}/chunks/${chunk.digest}`, chunk.bytes));
          bar.add(chunk.size);
        }
      }),
    );
  } finally {
    bar.stop();
  }
  const committed = await api.request<{ version: number; status: string; manifestDigest: string; checks?: Check[] }>('POST', `/v1/uploads/${staged.uploadId}/commit`);
  if (o.alias) await api.request('PUT', `/v1/models/${o.model}/aliases/${o.alias}`, { version: committed.version, reason: 'set at publish' });
  return { ...committed, format: model.format, uploadedChunks: todo.length, totalChunks: model.chunks.length, uploadedBytes: bytes, totalBytes: model.totalBytes };
}

/** The probe check's record: which shapes validation ran the model at, and where they came from. */
export function probeLine(checks: Check[] | undefined): string | undefined {
  const probe = checks?.find((c) => c.name === 'probe');
  return probe?.detail && `validation ran ${probe.detail}`;
}

export function registerPublish(program: Command, io: CliIo): void {
  program.command('publish <modelDir>')
    .description('validate, sign and store a TF.js model directory (model.json + weight files)')
    .requiredOption('--model <name>', 'model name in the registry')
    .option('--metrics <file>', 'metrics JSON: { evalSetDigest, values: { name: number } }')
    .option('--params <file>', 'training parameters JSON')
    .option('--golden <file>', 'golden examples JSON: { examples: [{ inputs, outputs }], tolerance? }')
    .option('--baseline <file>', 'monitoring baseline JSON (feature bins, vocabularies)')
    .option('--io <file>', 'declared input/output schema JSON (checked against the model)')
    .option('--lineage <file>', 'lineage JSON: { dataDigest, codeCommit, parentVersion }')
    .option('--label <label>', 'a human label for the version')
    .option('--alias <alias>', 'point this alias (e.g. champion) at the new version')
    .option('--create', 'create the model if it does not exist')
    .action(async (dir: string, o: PublishOptions) => {
      const api = Api.from(io, program.opts<GlobalOptions>());
      try {
        const r = await publishDir(io, api, dir, o);
        if (program.opts<GlobalOptions>().json) return io.stdout(JSON.stringify(r, null, 2));
        io.stdout(`${o.model} v${r.version} ${r.status} (${r.format}), manifest ${r.manifestDigest}`);
        io.stdout(`${r.uploadedChunks} of ${r.totalChunks} chunks uploaded (${r.uploadedBytes} of ${r.totalBytes} bytes), the rest already in the registry`);
        if (o.alias) io.stdout(`alias ${o.alias} → v${r.version}`);
        const ran = probeLine(r.checks);
        if (ran) io.stdout(ran);
      } catch (e) {
        if (e instanceof CliError && e.code === 'validation_failed') {
          const d = e.details as { version: number; reasons: { code: string; message: string }[]; checks?: Check[] };
          for (const reason of d.reasons ?? []) io.stderr(`  ${reason.code}: ${reason.message}`);
          const ran = probeLine(d.checks);
          if (ran && d.checks?.find((c) => c.name === 'probe')?.ok) io.stderr(`  (${ran})`);
          throw new CliError(e.code, `version ${d.version} was recorded as rejected and will never be served`);
        }
        throw e;
      }
    });
}
