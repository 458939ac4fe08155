/**
 * @module migrations
 * Applies control-plane/migrations/*.sql to a D1 binding in file order, as
 * `wrangler d1 migrations apply` does for `npm start`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { D1Database } from '@cloudflare/workers-types';
import { ROOT } from './bundle.ts';

export function migrationStatements(): string[] {
  const dir = join(ROOT, 'control-plane/migrations');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .replace(/--[^\n]*/g, '')
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean),
    );
}

export async function applyMigrations(db: D1Database): Promise<void> {
  await db.batch(migrationStatements().map((s) => db.prepare(s)));
}
