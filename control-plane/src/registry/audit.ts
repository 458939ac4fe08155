/**
 * @module audit
 * The append-only audit log. Every registry state change is written in the same D1 batch as
 * the change itself, so the log and the state can never disagree.
 */
import type { AuditRecord } from '@modelfleet/protocol';

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
}

export function auditStatement(db: D1Database, entry: AuditEntry, at = new Date().toISOString()): D1PreparedStatement {
  return db
    .prepare('INSERT INTO audit (at, actor, action, subject, before, after, reason) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .bind(
      at,
      entry.actor,
      entry.action,
      entry.subject,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.reason ?? null,
    );
}

/**
 * The same record, written only if `condition` (SQL with `?` placeholders, bound to
 * `conditionParams`) holds inside the batch — for records of a change that may lose a race.
 */
export function auditStatementIf(
  db: D1Database,
  entry: AuditEntry,
  at: string,
  condition: string,
  conditionParams: unknown[],
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit (at, actor, action, subject, before, after, reason) SELECT ?, ?, ?, ?, ?, ?, ? WHERE ${condition}`,
    )
    .bind(
      at,
      entry.actor,
      entry.action,
      entry.subject,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.reason ?? null,
      ...conditionParams,
    );
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  before: string | null;
  after: string | null;
  reason: string | null;
}

/** Escapes LIKE wildcards so filters match literally. */
const literal = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export async function listAudit(
  db: D1Database,
  opts: { subject?: string; action?: string; actor?: string; limit: number; before?: number },
): Promise<AuditRecord[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM audit WHERE (?1 IS NULL OR subject = ?1 OR subject LIKE ?5 || '/%' ESCAPE '\\') AND (?2 IS NULL OR id < ?2)
         AND (?4 IS NULL OR action = ?4 OR action LIKE ?6 || '.%' ESCAPE '\\') AND (?7 IS NULL OR actor LIKE '%' || ?7 || '%' ESCAPE '\\')
       ORDER BY id DESC LIMIT ?3`,
    )
    .bind(
      opts.subject ?? null,
      opts.before ?? null,
      opts.limit,
      opts.action ?? null,
      opts.subject ? literal(opts.subject) : null,
      opts.action ? literal(opts.action) : null,
      opts.actor ? literal(opts.actor) : null,
    )
    .all<AuditRow>();
  return results.map((r) => ({
    ...r,
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
  }));
}
