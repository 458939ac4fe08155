/**
 * @module models
 * D1 access for models, versions and aliases. Versions are immutable rows; aliases move, and
 * moving one bumps the model's ticket sequence so devices accept the new assignment.
 */
import { ApiError, forgetAssignments } from '@modelfleet/server-shared';
import type { ModelSummary, VersionSummary } from '@modelfleet/protocol';
import type { Operator } from '../http/context.ts';
import { auditStatement, auditStatementIf } from './audit.ts';

interface ModelRow {
  id: number;
  name: string;
  description: string;
  sequence: number;
  created_at: string;
}
interface VersionRow {
  id: number;
  version: number;
  label: string | null;
  status: 'active' | 'rejected';
  format: 'tfjs-layers' | 'tfjs-graph';
  manifest_digest: string | null;
  total_bytes: number;
  params: string;
  metrics: string;
  lineage: string;
  validation: string;
  published_by: string;
  published_at: string;
}

export async function findModel(db: D1Database, name: string): Promise<ModelRow> {
  const row = await db
    .prepare('SELECT id, name, description, sequence, created_at FROM models WHERE name = ?')
    .bind(name)
    .first<ModelRow>();
  if (!row) throw new ApiError('unknown_model', `no model named ${name}; create it with POST /v1/models`);
  return row;
}

export async function createModel(
  db: D1Database,
  name: string,
  description: string,
  op: Operator,
): Promise<ModelSummary> {
  const at = new Date().toISOString();
  const existing = await db.prepare('SELECT 1 FROM models WHERE name = ?').bind(name).first();
  if (existing) throw new ApiError('model_exists', `model ${name} already exists`);
  await db.batch([
    db
      .prepare('INSERT INTO models (name, description, created_at, created_by) VALUES (?, ?, ?, ?)')
      .bind(name, description, at, op.actor),
    auditStatement(
      db,
      { actor: op.actor, action: 'model.create', subject: `model/${name}`, after: { name, description } },
      at,
    ),
  ]);
  return { name, description, sequence: 0, aliases: {}, latestVersion: null, createdAt: at };
}

async function aliasesOf(db: D1Database, modelId: number): Promise<Record<string, number>> {
  const { results } = await db
    .prepare('SELECT name, version FROM aliases WHERE model_id = ? ORDER BY name')
    .bind(modelId)
    .all<{ name: string; version: number }>();
  return Object.fromEntries(results.map((r) => [r.name, r.version]));
}

export async function listModels(db: D1Database): Promise<ModelSummary[]> {
  const { results } = await db
    .prepare(
      `SELECT m.id, m.name, m.description, m.sequence, m.created_at, (SELECT MAX(version) FROM versions v WHERE v.model_id = m.id) AS latest
       FROM models m ORDER BY m.name`,
    )
    .all<ModelRow & { latest: number | null }>();
  return Promise.all(results.map(async (m) => summarizeModel(m, m.latest, await aliasesOf(db, m.id))));
}

export async function getModel(db: D1Database, name: string): Promise<ModelSummary> {
  const m = await findModel(db, name);
  const latest = await db
    .prepare('SELECT MAX(version) AS v FROM versions WHERE model_id = ?')
    .bind(m.id)
    .first<{ v: number | null }>();
  return summarizeModel(m, latest?.v ?? null, await aliasesOf(db, m.id));
}

function summarizeModel(m: ModelRow, latest: number | null, aliases: Record<string, number>): ModelSummary {
  return {
    name: m.name,
    description: m.description,
    sequence: m.sequence,
    aliases,
    latestVersion: latest,
    createdAt: m.created_at,
  };
}

function summarizeVersion(model: string, v: VersionRow, aliases: Record<string, number>): VersionSummary {
  return {
    model,
    version: v.version,
    label: v.label,
    status: v.status,
    format: v.format,
    manifestDigest: v.manifest_digest,
    totalBytes: v.total_bytes,
    params: JSON.parse(v.params),
    metrics: JSON.parse(v.metrics),
    lineage: JSON.parse(v.lineage),
    validation: JSON.parse(v.validation),
    aliases: Object.keys(aliases).filter((a) => aliases[a] === v.version),
    publishedBy: v.published_by,
    publishedAt: v.published_at,
  };
}

export async function listVersions(db: D1Database, name: string): Promise<VersionSummary[]> {
  const m = await findModel(db, name);
  const aliases = await aliasesOf(db, m.id);
  const { results } = await db
    .prepare('SELECT * FROM versions WHERE model_id = ? ORDER BY version DESC')
    .bind(m.id)
    .all<VersionRow>();
  return results.map((v) => summarizeVersion(name, v, aliases));
}

export async function getVersion(db: D1Database, name: string, version: number): Promise<VersionSummary> {
  const m = await findModel(db, name);
  const v = await db
    .prepare('SELECT * FROM versions WHERE model_id = ? AND version = ?')
    .bind(m.id, version)
    .first<VersionRow>();
  if (!v) throw new ApiError('unknown_version', `model ${name} has no version ${version}`);
  return summarizeVersion(name, v, await aliasesOf(db, m.id));
}

/** Attempts of an unconditional alias move that lost the race to a concurrent one before it gives up with 409. */
const ALIAS_ATTEMPTS = 8;

/**
 * Points an alias at an accepted version; the ticket sequence grows so devices follow. A
 * compare-and-swap: every statement of the batch is conditioned on the alias still pointing where
 * it was read, so the audit record's `before` is always the previous record's `after`, even under
 * concurrent moves. A move that loses the race re-reads and tries again, or, with `ifVersion` (the
 * version the caller expects to replace), answers 409 `conflict`.
 */
export async function setAlias(
  db: D1Database,
  name: string,
  alias: string,
  version: number,
  op: Operator,
  opts: { reason?: string; ifVersion?: number | null } = {},
): Promise<ModelSummary> {
  const target = await getVersion(db, name, version);
  if (target.status !== 'active') {
    throw new ApiError('version_rejected', `version ${version} of ${name} failed validation and can never be served`);
  }
  const m = await findModel(db, name);
  for (let attempt = 1; ; attempt++) {
    const before =
      (
        await db
          .prepare('SELECT version FROM aliases WHERE model_id = ? AND name = ?')
          .bind(m.id, alias)
          .first<{ version: number }>()
      )?.version ?? null;
    if (opts.ifVersion !== undefined && before !== opts.ifVersion) {
      throw new ApiError(
        'conflict',
        `alias ${alias} of ${name} points at ${before === null ? 'nothing' : `v${before}`}, not ${opts.ifVersion === null ? 'nothing' : `v${opts.ifVersion}`}; read it again and retry`,
        { current: before },
      );
    }
    if (await moveAlias(db, m.id, name, alias, before, version, op, opts.reason)) break;
    if (opts.ifVersion !== undefined || attempt >= ALIAS_ATTEMPTS) {
      throw new ApiError(
        'conflict',
        `alias ${alias} of ${name} was moved by concurrent changes while this one was applied; nothing was done, read it again and retry`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt)); // spreads a burst's retries
  }
  forgetAssignments();
  return getModel(db, name);
}

/** One batch, every statement conditioned on the alias still being `before`; false if it was not (nothing written). */
async function moveAlias(
  db: D1Database,
  modelId: number,
  name: string,
  alias: string,
  before: number | null,
  version: number,
  op: Operator,
  reason?: string,
): Promise<boolean> {
  const at = new Date().toISOString();
  const unchanged = '(SELECT version FROM aliases WHERE model_id = ? AND name = ?) IS ?';
  const params = [modelId, alias, before];
  // Moving the champion by hand (a hotfix, a rollback) ends a live rollout in the same batch.
  const supersede =
    alias === 'champion'
      ? [
          db
            .prepare(`INSERT INTO audit (at, actor, action, subject, before, after, reason)
                  SELECT ?, ?, 'rollout.supersede', 'rollout/' || id, NULL, NULL, ? FROM rollouts WHERE model_id = ? AND state IN ('draft', 'running', 'paused') AND ${unchanged}`)
            .bind(at, op.actor, `champion set to v${version} by hand`, modelId, ...params),
          db
            .prepare(
              `UPDATE rollouts SET state = 'aborted', percent = 0, updated_at = ? WHERE model_id = ? AND state IN ('draft', 'running', 'paused') AND ${unchanged}`,
            )
            .bind(at, modelId, ...params),
        ]
      : [];
  // The alias itself moves last: every statement before it still sees the value read.
  const results = await db.batch([
    ...supersede,
    db.prepare(`UPDATE models SET sequence = sequence + 1 WHERE id = ? AND ${unchanged}`).bind(modelId, ...params),
    auditStatementIf(
      db,
      {
        actor: op.actor,
        action: 'alias.set',
        subject: `model/${name}/alias/${alias}`,
        before: { version: before },
        after: { version },
        reason,
      },
      at,
      unchanged,
      params,
    ),
    db
      .prepare(
        `INSERT INTO aliases (model_id, name, version, updated_at, updated_by) SELECT ?, ?, ?, ?, ? WHERE ${unchanged}
       ON CONFLICT (model_id, name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      )
      .bind(modelId, alias, version, at, op.actor, ...params),
  ]);
  return results.at(-1)!.meta.changes === 1;
}
