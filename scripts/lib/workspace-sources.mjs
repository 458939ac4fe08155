// The workspace packages' source entry points, read from the root tsconfig's `paths` (the one
// place they are written): for tools that do not read tsconfig themselves (vitest, jest).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');

/** `{ '@modelfleet/protocol': '/abs/protocol/src/index.ts', … }` */
export function workspaceSources() {
  const { config, error } = ts.parseConfigFileTextToJson(
    'tsconfig.json',
    readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'),
  );
  if (error) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  return Object.fromEntries(Object.entries(config.compilerOptions.paths).map(([k, [v]]) => [k, join(ROOT, v)]));
}
