// Prints vitest's JSON results as one plain closing line ("N passed, N failed, N skipped"),
// the form CI logs are read by; the exit code is vitest's own.
import { readFileSync } from 'node:fs';

const r = JSON.parse(readFileSync(new URL('../.vitest/results.json', import.meta.url), 'utf8'));
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
