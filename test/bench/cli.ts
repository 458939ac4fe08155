/**
 * CLI start-up: `modelfleet --help` from the packed tarball installed in an empty folder (the
 * bundle, no tsx) against Node's own start (`node -e ""`); `npx modelfleet --help` against npm's
 * own start (`npx --version`), which npx adds whatever the package; and, for reference, the
 * repository's bin.mjs, which runs the TypeScript sources through tsx. Medians of RUNS, the
 * commands interleaved so that machine drift hits all alike.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI_PACKAGE, cleanEnv, packAndInstall } from '../ecosystem/cli-package.ts';

type Row = { bench: string; value: string; anchor: string; ratio: string; target: string };

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 11);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function cliBench(): Promise<Row[]> {
  const cli = await packAndInstall();
  const env = cleanEnv();
  const commands = {
    bin: [join(cli.dir, 'node_modules/.bin/modelfleet'), ['--help']],
    node: [process.execPath, ['-e', '']],
    npx: ['npx', ['--no-install', 'modelfleet', '--help']],
    npm: ['npx', ['--version']],
    repo: [process.execPath, [join(CLI_PACKAGE, 'bin.mjs'), '--help']],
  } as const;
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, [] as number[]])) as Record<
    keyof typeof commands,
    number[]
  >;
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [file, args]] of Object.entries(commands) as [
      keyof typeof commands,
      readonly [string, readonly string[]],
    ][]) {
      const t = performance.now();
      const r = spawnSync(file, args, { cwd: cli.dir, env, stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}`);
      times[name].push(performance.now() - t);
    }
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<
    keyof typeof commands,
    number
  >;
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return [
    {
      bench: `CLI --help, installed tarball (bundle, median of ${RUNS})`,
      value: ms(m.bin),
      anchor: `node -e "" ${ms(m.node)}`,
      ratio: `+${ms(m.bin - m.node)}`,
      target: '≤ 300 ms',
    },
    {
      bench: '  npx modelfleet --help (npm start-up included)',
      value: ms(m.npx),
      anchor: `npx --version ${ms(m.npm)}`,
      ratio: `+${ms(m.npx - m.npm)}`,
      target: '—',
    },
    {
      bench: '  repository bin.mjs --help (TypeScript through tsx)',
      value: ms(m.repo),
      anchor: `node -e "" ${ms(m.node)}`,
      ratio: `+${ms(m.repo - m.node)}`,
      target: '(reference)',
    },
  ];
}
