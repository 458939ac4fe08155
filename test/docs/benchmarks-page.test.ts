// docs/benchmarks.md is written by `npm run bench` (test/bench/report.ts): the renderer on a fake
// run, the page in the repository carrying the writer's mark, and every setup group used by run.ts.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BENCHMARKS_PATH,
  GENERATED_MARK,
  renderBenchmarks,
  targetMet,
  writeBenchmarks,
  type BenchRun,
  type BenchSection,
} from '../bench/report.ts';
import { SETUPS } from '../bench/setups.ts';

const run: BenchRun = {
  startedAt: new Date('2026-12-02T17:36:10Z'),
  finishedAt: new Date('2026-12-02T17:42:40Z'),
  machine: '2 cores (Fake CPU), 8 GiB',
  sections: [
    {
      title: 'Edge',
      setup: 'loopback, 16 clients',
      rows: [
        {
          bench: 'edge ticket',
          value: '1,820 req/s',
          anchor: 'trivial route 2,104 req/s',
          ratio: '0.86×',
          target: '≥ 0.5×',
        },
        { bench: '  latency p50 | p99', value: '8.1 / 20.3 ms', anchor: '—', ratio: '—', target: '—' },
      ],
    },
    { title: 'Noise', setup: 'one core', alone: 'node --import tsx test/bench/noise.ts', rows: [] },
  ],
  notes: ['3 requests failed'],
};

describe('docs/benchmarks.md writer', () => {
  it('renders the run date, duration, machine, each group with its setup, and every row with its anchor', () => {
    const page = renderBenchmarks(run);
    expect(page.startsWith(GENERATED_MARK)).toBe(true);
    expect(page).toContain('Run of **2026-12-02 17:36 UTC** (6.5 min), on 2 cores (Fake CPU), 8 GiB.');
    expect(page).toContain('## Edge\n\nloopback, 16 clients\n');
    expect(page).toContain('| edge ticket | 1,820 req/s | trivial route 2,104 req/s | 0.86× | ≥ 0.5× ✓ |');
    // An indented "of which" row stays marked, and a pipe inside a cell does not split the table.
    expect(page).toContain('| ↳ latency p50 \\| p99 | 8.1 / 20.3 ms | — | — | — |');
    expect(page).toContain('\n\nAlone: `node --import tsx test/bench/noise.ts`.');
    expect(page).toContain('- 3 requests failed');
  });

  it('checks ratio targets against the ratio and lists the misses above the tables', () => {
    expect(targetMet({ ratio: '2.82×', target: '≤ 1.5×' })).toBe(false);
    expect(targetMet({ ratio: '1.50×', target: '≤ 1.5×' })).toBe(true);
    expect(targetMet({ ratio: '0.86×', target: '≥ 0.5×' })).toBe(true);
    expect(targetMet({ ratio: '0.19×', target: '(reference)' })).toBeUndefined();
    expect(targetMet({ ratio: '0.91×', target: '≥ 0.8× ✓' })).toBeUndefined();
    const slow = { bench: 'cold load', value: '411 ms', anchor: '146 ms', ratio: '2.82×', target: '≤ 1.5×' };
    const [edge] = run.sections as [BenchSection];
    const page = renderBenchmarks({ ...run, sections: [{ ...edge, rows: [...edge.rows, slow] }] });
    expect(page).toContain('| cold load | 411 ms | 146 ms | 2.82× | ≤ 1.5× (missed) |');
    expect(page).toContain('**Ratio targets missed in this run: 1 of 2** — cold load (2.82×, target ≤ 1.5×).');
    expect(renderBenchmarks(run)).toContain('Ratio targets met in this run: 1 of 1.');
  });

  it('a page without an end time says its figures come from several runs', () => {
    const page = renderBenchmarks({ ...run, finishedAt: undefined });
    expect(page).toContain('Figures from several runs, the latest full one of **2026-12-02 17:36 UTC**');
    expect(page).not.toContain('Run of');
  });

  it('writes exactly what it renders', () => {
    const path = writeBenchmarks(run, join(mkdtempSync(join(tmpdir(), 'bench-page-')), 'benchmarks.md'));
    expect(readFileSync(path, 'utf8')).toBe(renderBenchmarks(run));
  });

  it("the page in the repository is the writer's, and run.ts reports every setup group", () => {
    expect(readFileSync(BENCHMARKS_PATH, 'utf8').startsWith(GENERATED_MARK)).toBe(true);
    const runner = readFileSync(new URL('../bench/run.ts', import.meta.url), 'utf8');
    for (const key of Object.keys(SETUPS)) expect(runner, key).toContain(`section('${key}'`);
  });
});
