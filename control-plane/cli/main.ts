/**
 * @module cli/main
 * `modelfleet` — the operator and pipeline CLI. `run()` is the whole program, so tests call it
 * in-process with their own io; bin.mjs calls it with the process's.
 */
import { Command, CommanderError } from 'commander';
import { CliError, type CliIo } from './context.ts';
import { registerBaseline } from './commands/baseline.ts';
import { registerKeys } from './commands/keys.ts';
import { registerPublish } from './commands/publish.ts';
import { registerRegistry } from './commands/registry.ts';
import { registerRollout } from './commands/rollout.ts';
import { registerVerify } from './commands/verify.ts';

export function defaultIo(): CliIo {
  return {
    stdout: (l) => process.stdout.write(l + '\n'),
    stderr: (l) => process.stderr.write(l + '\n'),
    tty: process.stderr.isTTY === true,
    fetch: globalThis.fetch,
    cwd: process.cwd(),
    env: process.env,
  };
}

export async function run(argv: string[], overrides: Partial<CliIo> = {}): Promise<number> {
  const io = { ...defaultIo(), ...overrides };
  const program = new Command('modelfleet')
    .description('publish, sign, verify and manage on-device models')
    .option('--endpoint <url>', 'control plane URL (env MODELFLEET_ENDPOINT; default from .modelfleet/dev.json or http://127.0.0.1:8787)')
    .option('--token <token>', 'operator token (env MODELFLEET_TOKEN; default from .modelfleet/dev.json)')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) });
  registerKeys(program, io);
  registerPublish(program, io);
  registerRegistry(program, io);
  registerVerify(program, io);
  registerBaseline(program, io);
  registerRollout(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliError) {
      io.stderr(`error ${e.code}: ${e.message}`);
      return 1;
    }
    io.stderr(`error internal: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}
