/**
 * @module cli/commands/progress
 * Upload progress: a cli-progress bar on a terminal, a line every 10 % otherwise (CI logs).
 */
import cliProgress from 'cli-progress';
import type { CliIo } from '../context.ts';

export interface Progress {
  add(bytes: number): void;
  stop(): void;
}

export function progress(io: CliIo, total: number, label: string): Progress {
  if (total === 0) return { add() {}, stop() {} };
  if (io.tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} KiB | {eta}s`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.ceil(total / 1024), 0);
    let done = 0;
    return { add: (n) => bar.update(Math.ceil((done += n) / 1024)), stop: () => bar.stop() };
  }
  let done = 0;
  let reported = 0;
  return {
    add(n) {
      done += n;
      const pct = Math.floor((100 * done) / total / 10) * 10;
      if (pct > reported) io.stderr(`${label}: ${(reported = pct)}% (${done} of ${total} bytes)`);
    },
    stop() {},
  };
}
