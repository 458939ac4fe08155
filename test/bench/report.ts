/**
 * @module bench/report
 * docs/benchmarks.md is this module's output, not a hand-written page: `npm run bench` passes the
 * table it printed, grouped by the module that measured each row, and the file is rewritten with
 * the run's start and end, the machine and each group's setup. A figure quoted elsewhere in docs/
 * names the run it came from, so a later run never silently changes what a sentence claims.
 *
 * @example
 *   writeBenchmarks({ startedAt, finishedAt, machine: describeMachine(), sections });
 */
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One line of the printed table: a figure beside its anchor measured in the same run. */
export interface BenchRow {
  bench: string;
  value: string;
  anchor: string;
  ratio: string;
  target: string;
}

/** The rows one bench module printed, with what a reader needs to reproduce them. */
export interface BenchSection {
  title: string;
  /** How the rows were measured: runtime, clients, model, repetitions, what the anchor is. */
  setup: string;
  /** The command that runs this group alone, when there is one. */
  alone?: string;
  /** Only when these rows come from another run than the page's (the seeded page): which one. */
  measured?: string;
  rows: BenchRow[];
}

export interface BenchRun {
  startedAt: Date;
  /** Absent on the seeded page, whose figures came from several runs. */
  finishedAt?: Date;
  machine: string;
  /** What the page is, above the tables (the seeded page says where its figures came from). */
  preface?: string;
  sections: BenchSection[];
  /** Printed under the tables: warnings of the run (failed requests, …). */
  notes?: string[];
}

export const BENCHMARKS_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
export const GENERATED_MARK = '<!-- Written by `npm run bench` (test/bench/report.ts). Do not edit by hand. -->';

/** The machine as the figures depend on it: cores, memory, load when the run ended, OS, Node. */
export function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()
    .map((n) => n.toFixed(1))
    .join(' / ');
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  return (
    `${cores.length} cores (${model}), ${gib} GiB, load average ${load} (1 / 5 / 15 min) at the end; ` +
    `${type()} ${release()}, Node ${process.version}`
  );
}

/** `2026-12-02 17:36 UTC` */
export function utcMinute(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// A cell never breaks its table: pipes escaped, line breaks folded, the table's own indentation
// marks (two leading spaces for "of which" rows) kept visible.
const cell = (s: string) =>
  s
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/^ {2}/, '↳ ');

// A target of the form `≤ 1.5×` / `≥ 0.5×` is checked against the row's ratio (`2.82×`), so a miss
// shows on the page instead of waiting for a reader to compare two columns. Other targets (points,
// bytes, prose) are left as printed, and so is a bench's own verdict (`N ERRORS`).
const RATIO_TARGET = /^([≤≥])\s*([\d.]+)×$/;

/** `true` met, `false` missed, `undefined` when the target is not a plain ratio bound. */
export function targetMet(row: Pick<BenchRow, 'ratio' | 'target'>): boolean | undefined {
  const bound = RATIO_TARGET.exec(row.target.trim());
  const ratio = /^([\d.]+)×/.exec(row.ratio.trim());
  if (!bound || !ratio) return undefined;
  const [value, limit] = [Number(ratio[1]), Number(bound[2])];
  return bound[1] === '≤' ? value <= limit : value >= limit;
}

/** The row with its verdict appended to the target (`✓` or `(missed)`), when the target is a ratio bound. */
export function withVerdict(r: BenchRow): BenchRow {
  const met = targetMet(r);
  return met === undefined ? r : { ...r, target: `${r.target} ${met ? '✓' : '(missed)'}` };
}

function missedLine(sections: BenchSection[]): string[] {
  const judged = sections.flatMap((s) => s.rows).map((r) => ({ r, met: targetMet(r) }));
  const checked = judged.filter((j) => j.met !== undefined).length;
  const missed = judged
    .filter((j) => j.met === false)
    .map(({ r }) => `${r.bench.trim()} (${r.ratio}, target ${r.target})`);
  if (!checked) return [];
  return [
    missed.length
      ? `**Ratio targets missed in this run: ${missed.length} of ${checked}** — ${missed.join('; ')}.`
      : `Ratio targets met in this run: ${checked} of ${checked}.`,
    '',
  ];
}

export function renderBenchmarks(run: BenchRun): string {
  const minutes = run.finishedAt && ((run.finishedAt.getTime() - run.startedAt.getTime()) / 60_000).toFixed(1);
  const out = [
    GENERATED_MARK,
    '',
    '# Benchmarks',
    '',
    minutes
      ? `Run of **${utcMinute(run.startedAt)}** (${minutes} min), on ${run.machine}.`
      : `Figures from several runs, the latest full one of **${utcMinute(run.startedAt)}**, on ${run.machine}.`,
    '',
  ];
  if (run.preface) out.push(run.preface, '');
  out.push(
    'Each figure stands beside an anchor measured in the same run, on the same machine; compare ratios',
    'within a run, not raw figures across runs (loopback figures move by about ±30 % between runs).',
    '`npm run bench` (about 6 minutes on 2 cores) rewrites this page at the end of every run.',
    '',
    ...missedLine(run.sections),
  );
  for (const s of run.sections) {
    out.push(`## ${s.title}`, '', s.setup);
    if (s.alone) out.push('', `Alone: \`${s.alone}\`.`);
    if (s.measured) out.push('', `Measured: ${s.measured}.`);
    out.push('', '| bench | value | anchor | ratio | target |', '|---|---|---|---|---|');
    for (const r of s.rows.map(withVerdict)) {
      out.push(`| ${[r.bench, r.value, r.anchor, r.ratio, r.target].map(cell).join(' | ')} |`);
    }
    out.push('');
  }
  if (run.notes?.length) out.push('## Notes', '', ...run.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

export function writeBenchmarks(run: BenchRun, path = BENCHMARKS_PATH): string {
  writeFileSync(path, renderBenchmarks(run));
  return path;
}
