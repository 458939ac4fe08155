/**
 * @module cli/commands/publish
 * `publish <dir>`: stage the upload, send only the chunks the registry lacks (4 at a time,
 * retried with backoff), commit, and report what validation said.
 */
import {
  ChunkPutResponse,
  CommitResponse,
  ModelSummary,
  type UploadRequest,
  UploadResponse,
  type VersionSummary,
} from '@modelfleet/protocol';
import { join, resolve } from 'node:path';
import { Api, type CliIo, type Ctx, emit, readJsonFile } from '../context.ts';
import { CliError } from '../errors.ts';
import { readModelDir } from './model-dir.ts';
import { progress } from './progress.ts';
import { checkUploadSize, oversizeError } from './upload-size.ts';

type Check = VersionSummary['validation']['checks'][number];

const PARALLEL = 4;
const RETRIES = 3;

interface PublishOptions {
  model: string;
  metrics?: string;
  params?: string;
  golden?: string;
  baseline?: string;
  io?: string;
  lineage?: string;
  label?: string;
  alias?: string;
  create?: boolean;
  /** No progress output (under --json, stderr carries warnings only). */
  quiet?: boolean;
}

async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      // API refusals (bad digest, auth) will not change on retry; transport failures and 5xx might.
      if (i + 1 >= RETRIES || (e instanceof CliError && e.family !== 'unavailable')) throw e;
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

  const body: UploadRequest = {
    format: model.format,
    modelJson: model.modelJson,
    chunks: model.chunks.map(({ digest, size }) => ({ digest, size })),
    ...meta,
  };
  const parts = {
    modelJson: join(dir, 'model.json'),
    ...(o.golden ? { golden: `--golden ${o.golden}` } : {}),
    ...(o.baseline ? { baseline: `--baseline ${o.baseline}` } : {}),
  };
  checkUploadSize(body, parts); // before --create: a refused publish changes nothing

  if (o.create) {
    await api.request(ModelSummary, 'POST', '/v1/models', { name: o.model }).catch((e) => {
      if (!(e instanceof CliError && e.code === 'model_exists')) throw e;
    });
  }
  const staged = await api
    .request(UploadResponse, 'POST', `/v1/models/${o.model}/uploads`, body)
    .catch((e: unknown) => {
      if (!(e instanceof CliError)) throw e;
      if (e.code === 'unknown_model') {
        throw new CliError(
          'refused',
          e.code,
          `there is no model ${o.model} at ${api.endpoint}: pass --create to create it with this publish, or run \`modelfleet models create ${o.model}\` first`,
        );
      }
      // A server with a smaller limit than ours (or the weights' MAX_MODEL_BYTES, which has no `limit`).
      const limit = (e.details as { limit?: unknown } | undefined)?.limit;
      if (e.code === 'payload_too_large' && typeof limit === 'number') throw oversizeError(body, parts, limit);
      throw e;
    });

  const missing = new Set(staged.missing);
  const todo = model.chunks.filter((c) => missing.delete(c.digest));
  const bytes = todo.reduce((n, c) => n + c.size, 0);
  const bar = o.quiet ? { add() {}, stop() {} } : progress(io, bytes, `uploading ${o.model}`);
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, todo.length) }, async () => {
        while (next < todo.length) {
          const chunk = todo[next++]!;
          await withRetry(() =>
            api.request(ChunkPutResponse, 'PUT', `/v1/uploads/${staged.uploadId}/chunks/${chunk.digest}`, chunk.bytes),
          );
          bar.add(chunk.size);
        }
      }),
    );
  } finally {
    bar.stop();
  }
  const committed = await api.request(CommitResponse, 'POST', `/v1/uploads/${staged.uploadId}/commit`);
  if (o.alias)
    await api.request(ModelSummary, 'PUT', `/v1/models/${o.model}/aliases/${o.alias}`, {
      version: committed.version,
      reason: 'set at publish',
    });
  return {
    ...committed,
    format: model.format,
    uploadedChunks: todo.length,
    totalChunks: model.chunks.length,
    uploadedBytes: bytes,
    totalBytes: model.totalBytes,
  };
}

/** The probe check's record: which shapes validation ran the model at, and where they came from. */
export function probeLine(checks: Check[] | undefined): string | undefined {
  const probe = checks?.find((c) => c.name === 'probe');
  return probe?.detail && `validation ran ${probe.detail}`;
}

export async function publish(c: Ctx, dir: string, o: PublishOptions): Promise<void> {
  const api = Api.from(c.io, c.globals);
  try {
    const r = await publishDir(c.io, api, dir, { ...o, quiet: c.globals.json === true });
    const ran = probeLine(r.checks);
    emit(c, r, () => [
      `${o.model} v${r.version} ${r.status} (${r.format}), manifest ${r.manifestDigest}`,
      `${r.uploadedChunks} of ${r.totalChunks} chunks uploaded (${r.uploadedBytes} of ${r.totalBytes} bytes), the rest already in the registry`,
      ...(o.alias ? [`alias ${o.alias} → v${r.version}`] : []),
      ...(ran ? [ran] : []),
    ]);
  } catch (e) {
    if (e instanceof CliError && e.code === 'validation_failed') {
      const d = e.details as { version: number; reasons: { code: string; message: string }[]; checks?: Check[] };
      if (!c.globals.json) {
        for (const reason of d.reasons ?? []) c.io.stderr(`  ${reason.code}: ${reason.message}`);
        const ran = probeLine(d.checks);
        if (ran && d.checks?.find((ch) => ch.name === 'probe')?.ok) c.io.stderr(`  (${ran})`);
      }
      // Under --json the reasons and checks travel in details.
      throw new CliError(
        'rejected',
        e.code,
        `version ${d.version} was recorded as rejected and will never be served`,
        d,
      );
    }
    throw e;
  }
}
