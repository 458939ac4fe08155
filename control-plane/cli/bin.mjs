#!/usr/bin/env node
// In the repository (`npx modelfleet`, `npm start`), the CLI runs from its TypeScript sources
// through tsx, so no build step is needed here. The published package runs dist/modelfleet.mjs,
// compiled from entry.ts by scripts/build.mjs, with no tsx at run time.
import { register } from 'tsx/esm/api';

// `modelfleet … | head` closes the pipe early: stop quietly, as other CLIs do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
register();
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
