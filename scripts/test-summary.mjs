// Prints vitest's and jest's JSON results as one plain closing line ("N passed, N failed, N
// skipped"), the form CI logs are read by; the exit codes are the runners' own.
import { existsSync, readFileSync } from 'node:fs';

const read = (f) => JSON.parse(readFileSync(new URL(`../.vitest/${f}`, import.meta.url), 'utf8'));
const v = read('results.json');
const j = existsSync(new URL('../.vitest/jest.json', import.meta.url))
  ? read('jest.json')
  : { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
const sum = (k) => v[k] + j[k];
console.log(
  `tests: ${sum('numPassedTests')} passed, ${sum('numFailedTests')} failed, ${sum('numPendingTests') + sum('numTodoTests')} skipped (vitest ${v.numPassedTests}, jest ${j.numPassedTests})`,
);
