// Type declarations for a published package: tsc emits .d.ts beside the build, then relative
// specifiers written for our sources ('./x.ts') are rewritten to what exists in the tarball
// ('./x.js' → x.d.ts), so a consumer's strict tsc resolves them without allowImportingTsExtensions.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith('.d.ts')) yield path;
  }
}

/** Runs tsc with `project` (emitDeclarationOnly) into `outDir`, then rewrites `.ts` specifiers. */
export function emitDeclarations(project, outDir) {
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', project, '--outDir', outDir], { stdio: 'inherit' });
  for (const file of files(outDir)) {
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1$2.js$3');
    if (fixed !== text) writeFileSync(file, fixed);
  }
}
