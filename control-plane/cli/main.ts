/**
 * @module cli/main
 * `modelfleet` — the operator and pipeline CLI. `run()` is the whole program, so tests call it
 * in-process with their own io; bin.mjs (in the repository) and bin.ts (the published package)
 * call it with the process's. Errors become `error <code>: <message>` on stderr, or under
 * `--json` the API's error shape `{ "error": { code, message, details? } }` on stdout, so that
 * a script reads one JSON document from stdout whatever happened; the exit code says which
 * family it was (errors.ts).
 */
import { CommanderError } from 'commander';
import type { CliIo } from './context.ts';
import { CliError } from './errors.ts';
import manifest from './package.json' with { type: 'json' };
import { buildProgram } from './program.ts';

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

/** `--json` anywhere before `--`: known before parsing, so that a usage error is JSON too. */
const wantsJson = (argv: string[]) =>
  argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');

/** commander.missingMandatoryOptionValue → missing_mandatory_option_value */
const usageCode = (code: string) => code.replace(/^commander\./, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export async function run(argv: string[], overrides: Partial<CliIo> = {}): Promise<number> {
  const io = { ...defaultIo(), ...overrides };
  const json = wantsJson(argv);
  const fail = (e: CliError) => {
    if (json) io.stdout(JSON.stringify(e.toJSON(), null, 2));
    else io.stderr(`error ${e.code}: ${e.message}`);
    return e.exitCode;
  };
  try {
    await buildProgram(io, manifest.version, { json }).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      // Commander has printed its message (or the help) already, unless under --json.
      const message =
        e.code === 'commander.help'
          ? 'a command is required: see `modelfleet --help`'
          : e.message.replace(/^error: /, '');
      const error = new CliError(
        'usage',
        usageCode(e.code === 'commander.help' ? 'commander.missingCommand' : e.code),
        message,
      );
      return json ? fail(error) : error.exitCode;
    }
    if (e instanceof CliError) return fail(e);
    const err = e as Error;
    if (json) return fail(new CliError('internal', 'internal', String(err.message ?? err), { stack: err.stack }));
    io.stderr(`error internal: ${err.stack ?? String(e)}`);
    return 1;
  }
}
