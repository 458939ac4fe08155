/**
 * @module cli/commands/baseline
 * `modelfleet baseline <data.csv|.jsonl> --schema <schema.json>` — computes the monitoring
 * baseline that `publish --baseline` puts (signed) into the manifest: equiprobable bins and a PIT
 * table per numeric feature, vocabulary and frequencies per categorical one, and, with
 * `--predictions`, class counts and confidence deciles of the model's validation outputs.
 * `modelfleet baseline --images <dir> --input <name>` does the same for an image model, from the
 * declared statistics of its training images (image-stats.ts): @input.<name>.brightness, ….
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import {
  IMAGE_STATS,
  type ImageStat,
  ProtocolError,
  baselineDetectableShift,
  baselineRowsFor,
  buildBaseline,
  inputStatName,
} from '@modelfleet/protocol';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { type CliIo, type Ctx, emit, readJsonFile } from '../context.ts';
import { CliError } from '../errors.ts';

const Schema = z.strictObject({
  features: z
    .array(z.strictObject({ name: z.string().min(1), kind: z.enum(['numeric', 'categorical']) }))
    .min(1)
    .max(512),
});

type Row = Record<string, unknown>;

/** Rows of a CSV file with a header line, or of a JSON-lines file of objects. */
function readRows(io: CliIo, path: string, flag: string): Row[] {
  const full = resolve(io.cwd, path);
  if (!existsSync(full)) throw new CliError('input', 'file_not_found', `${flag} ${path}: no such file`);
  const text = readFileSync(full, 'utf8');
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') {
    try {
      return parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Row[];
    } catch (e) {
      throw new CliError('input', 'bad_csv', `${flag} ${path}: ${(e as Error).message}`);
    }
  }
  if (ext === '.jsonl' || ext === '.ndjson') {
    return text.split('\n').flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line) as Row];
      } catch (e) {
        throw new CliError('input', 'bad_json', `${flag} ${path} line ${i + 1}: ${(e as Error).message}`);
      }
    });
  }
  throw new CliError('input', 'unsupported_format', `${flag} ${path}: use .csv (with a header) or .jsonl`);
}

/**
 * Predictions: JSON lines of probability arrays, or `{ "probabilities": [...], "label": k }` (the
 * true class: with a label on every row the baseline gets a reliability table, which calibrated
 * label-free accuracy needs), or CSV rows of numbers.
 */
function readPredictions(io: CliIo, path: string): { predictions: number[][]; labels: number[] | null } {
  const rows = readRows(io, path, '--predictions');
  const labels: number[] = [];
  const predictions = rows.map((r, i) => {
    const raw = Array.isArray(r) ? r : Array.isArray(r.probabilities) ? r.probabilities : Object.values(r);
    const p = (raw as unknown[]).map(Number);
    if (p.length === 0 || p.some((x) => !Number.isFinite(x)))
      throw new CliError('input', 'bad_request', `--predictions row ${i + 1} is not a list of probabilities`);
    if (!Array.isArray(r) && r.label !== undefined) {
      const k = Number(r.label);
      if (!Number.isInteger(k) || k < 0 || k >= Math.max(p.length, 2))
        throw new CliError(
          'input',
          'bad_request',
          `--predictions row ${i + 1}: label must be a class index in 0…${Math.max(p.length, 2) - 1}`,
        );
      labels.push(k);
    }
    return p;
  });
  if (labels.length > 0 && labels.length !== predictions.length)
    throw new CliError(
      'input',
      'bad_request',
      `--predictions: ${labels.length} of ${predictions.length} rows have a label; label every row or none`,
    );
  return { predictions, labels: labels.length > 0 ? labels : null };
}

/** A warning when the baseline's own sampling error, not the fleet, will limit what drift it can find. */
function smallBaselineWarning(rows: number, features: number, unit: 'rows' | 'images' = 'rows'): string | null {
  const shift = baselineDetectableShift(rows, features);
  if (shift <= 0.1) return null;
  return (
    `warning: ${rows} baseline ${unit} limit drift detection to location shifts of about ${shift.toFixed(2)}σ or more ` +
    `(80 % power at α = 0.01 over ${features} features), however many devices report; ` +
    `${baselineRowsFor(0.1, features).toLocaleString('en-US')} ${unit} would reach 0.1σ.`
  );
}

type Options = {
  schema?: string;
  images?: string;
  input?: string;
  stats?: string;
  predictions?: string;
  bins: string;
  maxVocabulary: string;
  out?: string;
};

export async function baseline(c: Ctx, data: string | undefined, o: Options): Promise<void> {
  const { io } = c;
  if (o.images !== undefined) return imageBaseline(c, data, o);
  if (data === undefined)
    throw new CliError(
      'usage',
      'bad_request',
      'give the training data (.csv or .jsonl) with --schema, or --images <dir> --input <name> for an image model',
    );
  if (o.schema === undefined)
    throw new CliError('usage', 'bad_request', '--schema <file> is required with training data');
  const schema = Schema.safeParse(readJsonFile(io, o.schema, '--schema'));
  if (!schema.success)
    throw new CliError('input', 'bad_schema', `--schema ${o.schema}: ${z.prettifyError(schema.error)}`);
  const { bins, maxVocabulary } = binOptions(o);
  const rows = readRows(io, data, 'data');
  if (rows.length === 0) throw new CliError('input', 'bad_request', `${data} has no rows`);
  for (const f of schema.data.features) {
    if (!(f.name in rows[0]!))
      throw new CliError(
        'input',
        'bad_request',
        `${data} has no column ${f.name} (columns: ${Object.keys(rows[0]!).join(', ')})`,
      );
  }
  const column = (name: string) =>
    rows.map((r) => (r[name] === undefined || r[name] === null ? null : (r[name] as number | string)));
  let baseline;
  try {
    const outputs = o.predictions ? readPredictions(io, o.predictions) : null;
    baseline = buildBaseline(schema.data.features, column, outputs?.predictions ?? null, {
      bins,
      maxVocabulary,
      labels: outputs?.labels ?? null,
    });
  } catch (e) {
    if (e instanceof ProtocolError) throw new CliError('input', e.code, e.message);
    throw e;
  }
  write(c, baseline, rows.length, 'rows', o.out);
}

function binOptions(o: Options): { bins: number; maxVocabulary: number } {
  const bins = Number(o.bins);
  const maxVocabulary = Number(o.maxVocabulary);
  if (!Number.isInteger(bins) || bins < 2 || bins > 256)
    throw new CliError('usage', 'bad_request', `--bins must be an integer in 2…256, got ${o.bins}`);
  if (!Number.isInteger(maxVocabulary) || maxVocabulary < 1 || maxVocabulary > 4096)
    throw new CliError('usage', 'bad_request', `--max-vocabulary must be in 1…4096, got ${o.maxVocabulary}`);
  return { bins, maxVocabulary };
}

function write(
  c: Ctx,
  baseline: ReturnType<typeof buildBaseline>,
  count: number,
  unit: 'rows' | 'images',
  out: string | undefined,
): void {
  const { io } = c;
  const features = baseline.features.map((f) =>
    f.kind === 'numeric' ? `${f.name} (${f.edges.length - 1} bins)` : `${f.name} (${f.vocabulary.length} values)`,
  );
  const summary = `baseline: ${count} ${unit}, ${features.join(', ')}${baseline.outputs ? `, outputs (${baseline.outputs.classCounts?.length} classes)` : ''}`;
  if (!c.globals.json) io.stderr(summary); // under --json, stderr carries warnings only
  const fewest = Math.min(...baseline.features.map((f) => f.rows ?? count));
  const warning = smallBaselineWarning(fewest, baseline.features.length, unit);
  if (warning) io.stderr(warning);
  if (baseline.outputs && !baseline.outputs.reliability) {
    io.stderr(
      'note: the predictions carry no labels, so label-free accuracy will be shown uncalibrated and raise no alarm; add "label" to each --predictions row to calibrate it.',
    );
  }
  // Without --out the baseline is the result, in text and --json mode alike; with it, --json says what was written.
  if (!out) return io.stdout(JSON.stringify(baseline, null, 2));
  writeFileSync(resolve(io.cwd, out), JSON.stringify(baseline, null, 2) + '\n');
  emit(
    c,
    {
      out,
      [unit]: count,
      features: baseline.features.map((f) => f.name),
      classes: baseline.outputs?.classCounts?.length ?? null,
    },
    () => [],
  );
}

/**
 * An image model's baseline: each declared statistic of the training images (source pixels,
 * 0–255, before any resize) as a numeric feature, built like any column. A statistic that is
 * constant over the images (every one 224 wide, say) cannot be binned: it is left out, with a
 * warning, rather than failing the whole baseline.
 */
async function imageBaseline(c: Ctx, data: string | undefined, o: Options): Promise<void> {
  const { io } = c;
  if (data !== undefined || o.schema !== undefined)
    throw new CliError(
      'usage',
      'bad_request',
      '--images builds the baseline from images: drop the data file and --schema',
    );
  if (!o.input)
    throw new CliError(
      'usage',
      'bad_request',
      "--images needs --input <name>: the model input the images feed (see the model's io signature)",
    );
  const { bins, maxVocabulary } = binOptions(o);
  const wanted =
    o.stats === undefined
      ? [...IMAGE_STATS]
      : o.stats
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const unknown = wanted.filter((s) => !(IMAGE_STATS as readonly string[]).includes(s));
  if (unknown.length > 0 || wanted.length === 0)
    throw new CliError(
      'usage',
      'bad_request',
      `--stats takes a comma-separated list of ${IMAGE_STATS.join(', ')}; got ${o.stats}`,
    );
  const { directoryStats } = await import('./image-stats.ts'); // the decoders load only for image baselines
  const { files, values } = directoryStats(io.cwd, o.images!);
  const constant = (wanted as ImageStat[]).filter((s) => values[s].every((v) => v === values[s][0]));
  for (const s of constant)
    io.stderr(`warning: ${s} is ${values[s][0]} on every image: not monitored (a constant cannot be binned)`);
  const kept = (wanted as ImageStat[]).filter((s) => !constant.includes(s));
  if (kept.length === 0)
    throw new CliError(
      'input',
      'bad_request',
      `--images ${o.images}: every statistic is constant over ${files.length} image(s)`,
    );
  const byName = new Map(kept.map((s) => [inputStatName(o.input!, s), values[s]]));
  let baseline;
  try {
    const outputs = o.predictions ? readPredictions(io, o.predictions) : null;
    baseline = buildBaseline(
      [...byName.keys()].map((name) => ({ name, kind: 'numeric' as const })),
      (name) => byName.get(name)!,
      outputs?.predictions ?? null,
      { bins, maxVocabulary, labels: outputs?.labels ?? null },
    );
  } catch (e) {
    if (e instanceof ProtocolError) throw new CliError('input', e.code, e.message);
    throw e;
  }
  write(c, baseline, files.length, 'images', o.out);
}
