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
export function auditStatementIf(db: D1Database, entry: AuditEntry, at: string, condition: string, conditionParams: unknown[]): D1PreparedStatement {
  return db
    .prepare(`INSERT INTO audit (at, actor, action, subject, before, after, reason) SELECT ?, ?, ?, ?, ?, ?, ? WHERE ${condition}`)
    .bind(
      at, entry.actor, entry.action, entry.subject,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.reason ?? null,
      ...conditionParams,
    );
}

interface AuditRow {
  id: number; at: string; actor: string; action: string; subject: string;
  before: string | null; after: string | null; reason: string | null;
}

export async function listAudit(db: D1Database, opts: { subject?: string; limit: number; before?: number }): Promise<AuditRecord[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM audit WHERE (?1 IS NULL OR subject = ?1 OR subject LIKE ?1 || '/%') AND (?2 IS NULL OR id < ?2)
       ORDER BY id DESC LIMIT ?3`,
    )
    .bind(opts.subject ?? null, opts.before ?? null, opts.limit)
    .all<AuditRow>();
  return results.map((r) => ({
    ...r,
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
  }));
}
