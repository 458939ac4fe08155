/**
 * @module ecosystem/packs
 * The packages as an app outside this repository gets them: `npm pack` of each workspace (its
 * prepack builds dist/), and fresh copies of the fixture apps under test/ecosystem/apps with their
 * committed lockfiles installed — node_modules kept while the lockfile is unchanged, so a second
 * run does not reinstall — and the tarballs installed on top. The apps live outside this
 * repository (the system's temp folder): nothing of ours — tsconfig paths, npm workspaces — may
 * reach them, as nothing would reach an app of a user's.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../harness/bundle.ts';

export const ECOSYSTEM_CACHE = join(tmpdir(), 'modelfleet-ecosystem');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** Packs a workspace (`protocol`, `web-sdk`) into the cache; returns the tarball's path. */
export function pack(workspace: string): string {
  const into = join(ECOSYSTEM_CACHE, 'packs');
  mkdirSync(into, { recursive: true });
  // The prepack build prints its sizes first; npm's JSON report is the array after them.
  const printed = npm(['pack', '--json', '--pack-destination', into], join(ROOT, workspace));
  const [info] = JSON.parse(printed.slice(printed.search(/^\[/m))) as { filename: string }[];
  return join(into, info!.filename);
}

/**
 * A fresh copy of the fixture app `name` with its lockfile's dependencies (cached) and `tarballs`
 * installed without touching its package.json or lockfile; returns its directory.
 */
export function freshApp(name: string, tarballs: string[]): string {
  const source = join(ROOT, 'test/ecosystem/apps', name);
  const dir = join(ECOSYSTEM_CACHE, 'apps', name);
  const lock = readFileSync(join(source, 'package-lock.json'));
  const key = createHash('sha256').update(lock).digest('hex');
  const marker = join(dir, 'node_modules', '.lockfile-sha256');
  const cached = existsSync(marker) && readFileSync(marker, 'utf8') === key;
  if (!cached) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The app's own files, afresh (the build outputs of the last run go with them).
  for (const entry of readdirSync(dir))
    if (entry !== 'node_modules') rmSync(join(dir, entry), { recursive: true, force: true });
  cpSync(source, dir, { recursive: true, filter: (p) => !p.includes('node_modules') });
  if (!cached) {
    npm(['ci'], dir);
    writeFileSync(marker, key);
  }
  npm(['install', '--no-save', ...tarballs], dir);
  return dir;
}

/** Runs the app's own build script (`npm run build`, as its template defines it). */
export function buildApp(dir: string): string {
  return npm(['run', 'build'], dir);
}

/** Packs @modelfleet/react-native with its own script (it bundles its workspace dependencies). */
export function packReactNative(): string {
  const into = join(ECOSYSTEM_CACHE, 'packs', 'react-native');
  rmSync(into, { recursive: true, force: true });
  // The WebView page is the global set-up's build; the script stages and packs around it.
  execFileSync(process.execPath, [join(ROOT, 'mobile-bridge/scripts/pack.mjs'), '--out', into, '--no-page-build'], {
    stdio: 'pipe',
  });
  const tarball = readdirSync(into).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`mobile-bridge/scripts/pack.mjs wrote no tarball into ${into}`);
  return join(into, tarball);
}
