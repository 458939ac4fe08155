/**
 * @module harness/cli
 * The `modelfleet` CLI run in-process against a test Worker with its admin token, from `cwd`,
 * its output collected as the terminal would show it.
 */
import { run } from '../../control-plane/cli/main.ts';

export async function runCli(
  worker: { url: string; adminToken: string },
  cwd: string,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['--endpoint', worker.url, '--token', worker.adminToken, ...argv], {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    tty: false,
    cwd,
    env: {},
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
