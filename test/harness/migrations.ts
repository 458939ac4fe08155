/**
 * @module migrations
 * Applies control-plane/migrations/*.sql to a D1 binding in file order, as
 * `wrangler d1 migrations apply` does for `npm start`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { D1Database } from '@cloudflare/workers-types';
import { ROOT } from './bundle.ts';

/** Statements of the migration files `which` picks (all of them by default), in file order. */
export function migrationStatements(which: (file: string) => boolean = () => true): string[] {
  const dir = join(ROOT, 'control-plane/migrations');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql') && which(f))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .replace(/--[^\n]*/g, '')
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean),
    );
}

export async function applyMigrations(db: D1Database, which?: (file: string) => boolean): Promise<void> {
  const statements = migrationStatements(which);
  if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s)));
}
