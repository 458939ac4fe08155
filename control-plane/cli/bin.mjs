#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npx modelfleet` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
