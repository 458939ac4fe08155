// `modelfleet baseline`: from training data to the monitoring baseline that publish signs in.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baseline, sketchCategorical, sketchLayout, sketchNumeric } from '@modelfleet/protocol';
import { boxMuller } from '@modelfleet/protocol/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'mf-baseline-'));
const channels = ['card', 'card', 'card', 'bank', 'bank', 'wallet', ''];

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: dir, env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(() => {
  // 2,000 rows: amount ~ exp(N(3, 1)), hour uniform 0–23 (discrete: ties), channel with a missing share.
  let s = 1;
  const u = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const normal = boxMuller(u); // u() is never 0 here: the same draws as without the guard
  const rows = Array.from({ length: 2000 }, (_, i) => [
    Math.exp(3 + normal()).toFixed(2),
    String(i % 24),
    channels[i % channels.length],
  ]);
  writeFileSync(join(dir, 'train.csv'), ['amount,hour,channel', ...rows.map((r) => r.join(','))].join('\n'));
  writeFileSync(
    join(dir, 'train.jsonl'),
    rows.map(([a, h, c]) => JSON.stringify({ amount: Number(a), hour: Number(h), channel: c || null })).join('\n'),
  );
  writeFileSync(
    join(dir, 'schema.json'),
    JSON.stringify({
      features: [
        { name: 'amount', kind: 'numeric' },
        { name: 'hour', kind: 'numeric' },
        { name: 'channel', kind: 'categorical' },
      ],
    }),
  );
  writeFileSync(
    join(dir, 'preds.jsonl'),
    Array.from({ length: 100 }, (_, i) => JSON.stringify([1 - i / 100, i / 100])).join('\n'),
  );
});

describe('modelfleet baseline', () => {
  it('computes equiprobable bins, a PIT table, vocabulary with frequencies, and output deciles', async () => {
    const r = await cli(
      'baseline',
      'train.csv',
      '--schema',
      'schema.json',
      '--predictions',
      'preds.jsonl',
      '--out',
      'baseline.json',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('2000 rows');
    const b = Baseline.parse(JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')));
    const [amount, hour, channel] = b.features as any[];
    expect(amount.edges).toHaveLength(11);
    expect(amount.edges[5]).toBeGreaterThan(15); // median of exp(N(3,1)) ≈ e³ ≈ 20
    expect(amount.edges[5]).toBeLessThan(26);
    expect(amount.pit.at(-1)[2]).toBeCloseTo(1, 3); // the largest row is one value: F passes through the middle of its step
    expect(amount.rows).toBe(2000);
    expect(amount.shares.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
    // hour takes 24 values, each ~4 % of the rows: every one is an atom, F jumps by its share there.
    const jumps = hour.pit.filter((p: number[]) => p[2]! - p[1]! > 0.03);
    expect(jumps).toHaveLength(24);
    expect(hour.shares.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
    expect(hour.edges.length).toBeLessThanOrEqual(11); // ties collapse; edges stay strictly increasing
    expect(channel.vocabulary).toEqual(['card', 'bank', 'wallet']);
    expect(channel.frequencies).toEqual([858 / 2000, 572 / 2000, 285 / 2000, 0, 285 / 2000]); // 2,000 rows cycling through 7 values
    expect(b.outputs!.classCounts).toEqual([51, 49]); // p = i/100, i = 0…99: class 1 wins for i > 50 (the tie at 50 goes to class 0)
    expect(b.outputs!.confidenceDeciles).toHaveLength(9);
    // The training data, sketched against its own baseline, fills the bins evenly.
    const layout = await sketchLayout(b);
    expect(layout.features[2]!.expected).toHaveLength(5);
    const rows = readFileSync(join(dir, 'train.csv'), 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const sketch = sketchNumeric(
      rows.slice(0, 64).map((r) => Number(r[0])),
      amount.edges,
      amount.pit,
    )!;
    for (const h of sketch.bins.slice(1, 11)) expect(h / 4096).toBeLessThan(0.25);
    expect(
      sketchCategorical(
        rows.slice(0, 64).map((r) => r[2] || null),
        channel.vocabulary,
      ),
    ).not.toBeNull();
  });

  it('reads JSON lines to the same baseline', async () => {
    const csv = await cli('baseline', 'train.csv', '--schema', 'schema.json');
    const jsonl = await cli('baseline', 'train.jsonl', '--schema', 'schema.json');
    expect(jsonl.code, jsonl.err).toBe(0);
    expect(JSON.parse(jsonl.out)).toEqual(JSON.parse(csv.out));
  });

  it('--json with --out says what was written; without --out the baseline is the JSON', async () => {
    const r = await cli('--json', 'baseline', 'train.csv', '--schema', 'schema.json', '--out', 'b.json');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(JSON.parse(r.out)).toEqual({
      out: 'b.json',
      rows: 2000,
      features: ['amount', 'hour', 'channel'],
      classes: null,
    });
    const inline = await cli('--json', 'baseline', 'train.csv', '--schema', 'schema.json');
    expect(JSON.parse(inline.out)).toEqual(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')));
  });

  it('warns when the baseline is too small for the fleets it will meet, with the power it leaves', async () => {
    const rows = readFileSync(join(dir, 'train.csv'), 'utf8').split('\n');
    writeFileSync(join(dir, 'small.csv'), rows.slice(0, 122).join('\n')); // header + 121 rows
    const small = await cli('baseline', 'small.csv', '--schema', 'schema.json', '--out', 'small.json');
    expect(small.code, small.err).toBe(0);
    expect(small.err).toMatch(
      /warning: 121 baseline rows limit drift detection to location shifts of about 0\.\d\dσ or more/,
    );
    expect(small.err).toContain('would reach 0.1σ');
    const big = await cli('baseline', 'train.csv', '--schema', 'schema.json', '--out', 'big.json');
    expect(big.err).not.toContain('warning'); // 2,000 rows over 3 features reach ~0.08σ: no warning
  });

  it('labels on the predictions give a reliability table; without them a note says accuracy stays uncalibrated', async () => {
    writeFileSync(
      join(dir, 'labelled.jsonl'),
      Array.from({ length: 100 }, (_, i) =>
        JSON.stringify({ probabilities: [1 - i / 100, i / 100], label: i % 3 === 0 ? 0 : 1 }),
      ).join('\n'),
    );
    const r = await cli(
      'baseline',
      'train.csv',
      '--schema',
      'schema.json',
      '--predictions',
      'labelled.jsonl',
      '--out',
      'labelled.json',
    );
    expect(r.code, r.err).toBe(0);
    const b = Baseline.parse(JSON.parse(readFileSync(join(dir, 'labelled.json'), 'utf8')));
    expect(b.outputs!.reliability!.counts.reduce((a, c) => a + c, 0)).toBe(100);
    expect(r.err).not.toContain('uncalibrated');
    const plain = await cli(
      'baseline',
      'train.csv',
      '--schema',
      'schema.json',
      '--predictions',
      'preds.jsonl',
      '--out',
      'plain.json',
    );
    expect(plain.err).toContain('uncalibrated');
    writeFileSync(
      join(dir, 'half.jsonl'),
      [
        JSON.stringify({ probabilities: [0.2, 0.8], label: 1 }),
        ...Array.from({ length: 30 }, () => JSON.stringify({ probabilities: [0.3, 0.7] })),
      ].join('\n'),
    );
    const half = await cli('baseline', 'train.csv', '--schema', 'schema.json', '--predictions', 'half.jsonl');
    expect([half.code, half.err]).toEqual([3, expect.stringContaining('label every row or none')]);
  });

  it('refuses bad input with coded errors', async () => {
    writeFileSync(join(dir, 'const.csv'), 'x\n' + '5\n'.repeat(50));
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ features: [{ name: 'x', kind: 'numeric' }] }));
    writeFileSync(join(dir, 'bad-schema.json'), JSON.stringify({ features: [{ name: 'x', kind: 'ordinal' }] }));
    // Exit 3 (input) for what is wrong in the files, 2 (usage) for a flag out of range.
    const cases: [string[], string, number][] = [
      [['baseline', 'train.csv', '--schema', 'x.json'], 'error bad_request: train.csv has no column x', 3],
      [['baseline', 'const.csv', '--schema', 'x.json'], 'error bad_request: feature x is constant', 3],
      [['baseline', 'train.csv', '--schema', 'bad-schema.json'], 'error bad_schema', 3],
      [['baseline', 'train.txt', '--schema', 'schema.json'], 'error file_not_found', 3],
      [['baseline', 'schema.json', '--schema', 'schema.json'], 'error unsupported_format', 3],
      [['baseline', 'train.csv', '--schema', 'schema.json', '--bins', '1'], 'error bad_request: --bins', 2],
    ];
    for (const [argv, message, code] of cases) {
      const r = await cli(...argv);
      expect([r.code, r.err], argv.join(' ')).toEqual([code, expect.stringContaining(message)]);
    }
  });
});
