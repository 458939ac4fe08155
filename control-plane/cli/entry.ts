#!/usr/bin/env node
// The published package's bin, compiled by scripts/build.mjs to dist/modelfleet.mjs; in the
// repository, bin.mjs runs the same run() from the TypeScript sources.
import { run } from './main.ts';

// `modelfleet … | head` closes the pipe early: stop quietly, as other CLIs do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
process.exitCode = await run(process.argv.slice(2));
