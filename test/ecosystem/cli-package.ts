/**
 * @module ecosystem/cli-package
 * The `modelfleet` package as a user gets it: `npm pack` in control-plane/cli (prepack builds
 * dist/), then `npm install <tarball>` in an empty folder outside the repository, and commands
 * run there with a clean environment. Shared by the ecosystem test and the bench.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const CLI_PACKAGE = resolve(import.meta.dirname, '../../control-plane/cli');

/** The environment without npm's npm_* variables (set when this runs under `npm test`), no update check. */
export function cleanEnv(): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => !/^npm_/i.test(k) && v !== undefined),
  ) as Record<string, string>;
  return {
    ...env,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    NO_COLOR: '1',
  };
}

export interface InstalledCli {
  /** The folder it is installed in (empty before), also the cwd of every command. */
  dir: string;
  tarball: string;
  packMs: number;
  installMs: number;
  /** Runs `npx modelfleet …` there; never throws: the exit code is part of the result. */
  npx: (...argv: string[]) => Promise<{ code: number; out: string; err: string; ms: number }>;
}

/** Packs and installs; `--offline`: the package has no dependencies, so nothing comes from a registry. */
export async function packAndInstall(): Promise<InstalledCli> {
  const root = mkdtempSync(join(tmpdir(), 'mf-cli-pkg-'));
  const packs = join(root, 'packs');
  const dir = join(root, 'project');
  mkdirSync(packs);
  mkdirSync(dir);
  const env = cleanEnv();
  let t = performance.now();
  await run('npm', ['pack', '--pack-destination', packs, '--loglevel=error'], { cwd: CLI_PACKAGE, env });
  const packMs = performance.now() - t;
  const tarball = join(packs, readdirSync(packs).find((f) => f.endsWith('.tgz'))!);
  t = performance.now();
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir, env });
  const installMs = performance.now() - t;
  const npx = async (...argv: string[]) => {
    const started = performance.now();
    try {
      const { stdout, stderr } = await run('npx', ['--no-install', 'modelfleet', ...argv], { cwd: dir, env });
      return { code: 0, out: stdout, err: stderr, ms: performance.now() - started };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof x.code === 'number' ? x.code : -1,
        out: x.stdout ?? '',
        err: x.stderr ?? '',
        ms: performance.now() - started,
      };
    }
  };
  return { dir, tarball, packMs, installMs, npx };
}
